// proxy-pools.js - the proxy pools page: cards with weighted members, add/remove proxies.

import { startPage } from '../page.js';
import { h, $, badge } from '../dom.js';
import { bindList } from '../collection.js';
import { bindEditor } from '../editor.js';
import { actionForm, enhanceActions } from '../forms.js';

document.documentElement.classList.add('js');
const { colls } = startPage({ collections: ['proxy-pools', 'proxies'] });
const coll = colls['proxy-pools'];
const proxies = colls.proxies;

function hidden(name, value, form) {
	return h('input', { type: 'hidden', name, value: String(value), form: form || null,
		dataset: typeof value === 'boolean' ? { type: 'bool' } : typeof value === 'number' ? { type: 'number' } : {} });
}

/* memberFields are the hidden fields that restate members as they are. */
function memberFields(members, form) {
	// "members" = [] first, so a pool whose last member is removed still
	// sends its (empty) list, with JavaScript (JSON) and without (a form).
	const marker = h('input', { type: 'hidden', name: 'members', value: '[]',
		form: form || null, dataset: { type: 'json' } });
	return [marker, ...members.flatMap((m, i) => [
		hidden(`members[${i}].proxyId`, m.proxyId, form),
		hidden(`members[${i}].weight`, m.weight ?? 1, form),
		hidden(`members[${i}].isActive`, m.isActive !== false, form),
	])];
}

function proxyLabel(id) {
	const p = proxies.get(id);
	return p ? p.name : `unknown proxy ${id.slice(0, 8)}`;
}

function card(r) {
	const members = r.members || [];
	const formId = `members-${r.id}`;
	const redirect = () => hidden('_redirect', location.pathname);
	const items = members.map((m, i) => {
		const p = proxies.get(m.proxyId);
		const others = members.filter((_, j) => j !== i);
		const remove = actionForm(`/api/proxy-pools/${r.id}`, 'PATCH', 'Remove', {
			cls: 'btn btn-small btn-danger', key: `remove-${m.proxyId}`, version: r.version,
		});
		remove.append(...memberFields(others));
		// A pool left without members still sends "members": [] as JSON.
		if (!others.length) remove.dataset.empty = 'members';
		return h('li', { dataset: { member: m.proxyId } },
			h('span', { class: 'name' }, proxyLabel(m.proxyId),
				p ? h('span', { class: 'muted mono' }, ` ${p.address}`) : null),
			p ? badge(!p.isEnabled ? 'Disabled' : p.isHealthy === false ? 'Failed' : 'Active') : null,
			hidden(`members[${i}].proxyId`, m.proxyId, formId),
			h('label', { class: 'check' }, 'Weight ',
				h('input', { type: 'number', min: 1, max: 1000000, name: `members[${i}].weight`, value: m.weight ?? 1, form: formId, 'aria-label': `Weight of ${proxyLabel(m.proxyId)}`, dataset: { key: `w-${m.proxyId}` } })),
			h('label', { class: 'check' },
				hidden(`members[${i}].isActive`, false, formId),
				h('input', { type: 'checkbox', name: `members[${i}].isActive`, value: 'true', checked: m.isActive !== false, form: formId, dataset: { key: `a-${m.proxyId}` } }),
				' Active'),
			remove);
	});
	const inPool = new Set(members.map((m) => m.proxyId));
	const choices = proxies.all().filter((p) => !inPool.has(p.id));
	const n = members.length;
	const add = h('form', { class: 'actions add-member', method: 'post', action: `/api/proxy-pools/${r.id}`, dataset: { action: '1', version: r.version } },
		redirect(), hidden('_method', 'PATCH'), ...memberFields(members),
		h('label', { for: `add-${r.id}`, class: 'sr-only' }, `Proxy to add to ${r.name}`),
		h('select', { id: `add-${r.id}`, name: `members[${n}].proxyId`, required: true, dataset: { key: 'add-select' } },
			h('option', { value: '', disabled: true, selected: true }, choices.length ? 'Add a proxy…' : 'No other proxies'),
			choices.map((p) => h('option', { value: p.id }, `${p.name} (${p.address})`))),
		h('label', { class: 'check' }, 'Weight ', h('input', { type: 'number', name: `members[${n}].weight`, min: 1, max: 1000000, value: 1, 'aria-label': 'Weight of the added proxy' })),
		h('button', { type: 'submit', class: 'btn btn-small', dataset: { key: 'add' }, disabled: !choices.length }, 'Add'));
	const totalWeight = members.reduce((s, m) => s + (m.isActive !== false ? (m.weight ?? 1) : 0), 0);
	return h('article', { class: `card${r.isEnabled ? '' : ' disabled'}`, dataset: { id: r.id, version: r.version }, 'aria-label': r.name },
		h('div', { class: 'card-head' }, h('h3', {}, r.name), badge(r.poolStrategy.replace('_', ' '), 'strategy'), badge(r.isEnabled ? 'enabled' : 'disabled')),
		r.description ? h('p', { class: 'desc' }, r.description) : null,
		h('dl', { class: 'kv' },
			h('dt', {}, 'Health checks'), h('dd', {}, r.healthCheckEnabled ? `every ${r.healthCheckIntervalSeconds} s, timeout ${r.healthCheckTimeoutSeconds} s, ${r.maxFailures} failures` : 'off'),
			h('dt', {}, 'Members'), h('dd', { dataset: { count: 'members' } }, `${n} (total active weight ${totalWeight})`)),
		n ? h('ul', { class: 'members', 'aria-label': `Members of ${r.name}` }, items) : h('p', { class: 'muted' }, 'No proxies in this pool yet.'),
		n ? h('form', { id: formId, class: 'inline', method: 'post', action: `/api/proxy-pools/${r.id}`, dataset: { action: '1', version: r.version } },
			redirect(), hidden('_method', 'PATCH'),
			h('button', { type: 'submit', class: 'btn btn-small', dataset: { key: 'save-members' } }, 'Save weights')) : null,
		add,
		h('div', { class: 'actions' },
			h('button', { type: 'button', class: 'btn btn-small', dataset: { key: 'edit' }, onclick: () => editor.edit(coll.get(r.id)) }, 'Edit'),
			actionForm(`/api/proxy-pools/${r.id}`, 'PATCH', r.isEnabled ? 'Disable' : 'Enable', { fields: { isEnabled: !r.isEnabled }, key: 'toggle' }),
			actionForm(`/api/proxy-pools/${r.id}`, 'DELETE', 'Delete', {
				cls: 'btn btn-small btn-danger', key: 'delete', version: r.version, confirm: `Delete the pool “${r.name}”?`,
			})));
}

function summary() {
	let members = 0;
	for (const r of coll.byId.values()) members += (r.members || []).length;
	$('#summary').textContent = `${coll.size} pools · ${members} memberships · ${proxies.size} proxies`;
}

const view = bindList(coll, $('#list'), card, { empty: $('#empty'), onChange: summary });
// Names, health and the "add" choices come from the proxies: redraw the
// cards when they change (no request: both lists are live).
proxies.on(() => { view.refresh(); });

const editor = bindEditor($('#pool-form'), { coll, what: 'pool', method: 'PATCH' });

enhanceActions($('#list'), (rec, f) => {
	if (rec) coll.upsert(rec);
	else coll.remove(f.getAttribute('action').split('/').pop(), Number(f.dataset.version));
});
