// personas.js - the personas page: DNS/HTTP tabs, search, cards, create/edit forms.

import { startPage } from '../page.js';
import { h, $, badge } from '../dom.js';
import { bindList } from '../collection.js';
import { bindEditor, setList } from '../editor.js';
import { actionForm, enhanceActions, fillForm } from '../forms.js';
import { tabs, setCount } from '../widgets.js';

document.documentElement.classList.add('js');
const { colls } = startPage({ collections: ['personas'] });
const coll = colls.personas;
let tab = location.hash === '#http' ? 'http' : 'dns';
let query = '';

function matches(r) {
	if (!query) return true;
	const q = query.toLowerCase();
	return (r.name || '').toLowerCase().includes(q) || (r.description || '').toLowerCase().includes(q);
}

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

function counts() {
	let dns = 0;
	let http = 0;
	let enabled = 0;
	for (const r of coll.byId.values()) {
		if (r.personaType === 'dns') dns++;
		else http++;
		if (r.isEnabled) enabled++;
	}
	setCount(document, 'dns', dns);
	setCount(document, 'http', http);
	$('#summary').textContent = `${dns + http} personas · ${enabled} enabled`;
}

const view = bindList(coll, $('#list'), card, {
	keep: (r) => r.personaType === tab && matches(r),
	empty: $('#empty'),
	onChange: counts,
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
		onOpen: (rec) => { if (rec) showForm('dns'); },
	}),
	http: bindEditor(forms.http, {
		coll, what: 'HTTP persona',
		onOpen: (rec) => { if (rec) showForm('http'); },
	}),
};

tabs($('[role="tablist"]'), (name) => {
	tab = name;
	if (!editors.dns.editing && !editors.http.editing) showForm(tab);
	if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
	view.refresh();
}).select(tab);

$('#search').addEventListener('input', (e) => {
	query = e.target.value.trim();
	view.refresh();
});
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
