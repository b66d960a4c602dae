// personas.js - the personas page: DNS/HTTP tabs, search, cards, create/edit forms.

import { startPage } from '../page.js';
import { h, $, badge } from '../dom.js';
import { liveList } from '../listview.js';
import { bindEditor, setList } from '../editor.js';
import { actionForm, enhanceActions, fillForm } from '../forms.js';
import { tabs } from '../widgets.js';

document.documentElement.classList.add('js');
// The DNS/HTTP tabs drive the personaType filter (?personaType=http);
// the old #http link still opens the HTTP tab.
if (location.hash === '#http' && !new URLSearchParams(location.search).has('personaType')) {
	const p = new URLSearchParams(location.search);
	p.set('personaType', 'http');
	history.replaceState(null, '', `${location.pathname}?${p}`);
}
let tab = 'dns';

const onOff = (b) => (b ? 'on' : 'off');

function details(r) {
	const c = r.configDetails || {};
	if (r.personaType === 'dns') {
		return [
			['Resolvers', (c.resolvers || []).join(', ') || '—'],
			['Strategy', c.resolverStrategy],
			['Timeout', `${c.queryTimeoutSeconds} s`],
			['Concurrency', `${c.concurrentQueriesPerDomain} per domain, ${c.maxConcurrentGoroutines} workers`],
			['Rate limit', c.rateLimitDps ? `${c.rateLimitDps}/s, burst ${c.rateLimitBurst}` : 'none'],
		];
	}
	const tls = c.tlsClientHello || {};
	return [
		['User agent', c.userAgent],
		['TLS', `${tls.minVersion || '—'} – ${tls.maxVersion || '—'}`],
		['HTTP/2', onOff(c.http2Settings && c.http2Settings.enabled)],
		['Cookies', (c.cookieHandling && c.cookieHandling.mode) || '—'],
		['Timeout', `${c.requestTimeoutSeconds} s, ${c.maxRedirects} redirects`],
		['Headless', c.useHeadless ? `${c.viewportWidth}×${c.viewportHeight}` : 'off'],
	];
}

function card(r) {
	return h('article', { class: `card${r.isEnabled ? '' : ' disabled'}`, dataset: { id: r.id, version: r.version }, 'aria-label': r.name },
		h('div', { class: 'card-head' },
			h('h3', {}, r.name),
			badge(r.personaType.toUpperCase(), r.personaType),
			badge(r.isEnabled ? 'enabled' : 'disabled')),
		r.description ? h('p', { class: 'desc' }, r.description) : null,
		h('dl', { class: 'kv' }, details(r).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
		h('div', { class: 'actions' },
			h('button', {
				type: 'button', class: 'btn btn-small', dataset: { key: 'edit' },
				onclick: () => editors[r.personaType].edit(coll.get(r.id)),
			}, 'Edit'),
			actionForm(`/api/personas/${r.id}`, 'PATCH', r.isEnabled ? 'Disable' : 'Enable',
				{ fields: { isEnabled: !r.isEnabled }, key: 'toggle' }),
			actionForm(`/api/personas/${r.id}`, 'DELETE', 'Delete', {
				cls: 'btn btn-small btn-danger', key: 'delete', version: r.version,
				confirm: `Delete the persona “${r.name}”?`,
			})));
}

let tabsUi = null;
const coll = liveList({
	collection: 'personas', container: $('#list'), render: card,
	noun: ['persona', 'personas'], totalEl: $('#summary'), empty: $('#empty'),
	tools: $('#list-tools'), pager: $('#pager'),
	defaults: { filters: { personaType: 'dns' } },
	labels: {
		sort: { name: 'Name', createdAt: 'Created', updatedAt: 'Updated', personaType: 'Type' },
		filters: { personaType: false, isEnabled: { label: 'Status', values: { true: 'Enabled', false: 'Disabled' } } },
	},
	onState: (st) => {
		tab = st.filters.personaType || 'dns';
		if (tabsUi) tabsUi.show(tab);
	},
});

const forms = { dns: $('#form-dns'), http: $('#form-http') };
function showForm(type) {
	for (const [t, f] of Object.entries(forms)) f.hidden = t !== type;
}
const editors = {
	dns: bindEditor(forms.dns, {
		coll, what: 'DNS persona',
		fill: (form, rec) => {
			fillForm(form, rec);
			setList(form, 'configDetails.resolvers', (rec.configDetails || {}).resolvers);
		},
		onOpen: (rec, how) => { if (rec || how) showForm('dns'); },
	}),
	http: bindEditor(forms.http, {
		coll, what: 'HTTP persona',
		onOpen: (rec, how) => { if (rec || how) showForm('http'); },
	}),
};

let quiet = false;
const tabWidget = tabs($('[role="tablist"]'), (name) => {
	if (!editors.dns.editing && !editors.http.editing) showForm(name);
	if (quiet || name === tab) return;
	tab = name;
	coll.go({ filters: { ...coll.state.filters, personaType: name } });
});
tabsUi = {
	show(name) {
		quiet = true;
		tabWidget.select(name);
		quiet = false;
	},
};
tabsUi.show(tab);
startPage({ views: [coll] });
$('#new-btn').addEventListener('click', (e) => {
	e.preventDefault();
	editors[tab].create();
	showForm(tab);
	forms[tab].scrollIntoView({ behavior: 'smooth' });
	forms[tab].querySelector('input[name="name"]').focus({ preventScroll: true });
});

enhanceActions($('#list'), (rec, form) => {
	if (rec) coll.upsert(rec);
	else coll.remove(form.getAttribute('action').split('/').pop(), Number(form.dataset.version));
});
