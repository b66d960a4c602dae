// proxy-pools.js - the proxy pools page: cards with weighted members, add/remove proxies.

import { startPage } from '../page.js';
import { h, $, badge } from '../dom.js';
import { liveList } from '../listview.js';
import { labelSource } from '../labels.js';
import { picker } from '../picker.js';
import { bindEditor } from '../editor.js';
import { proxyBadges } from '../health.js';
import { actionForm, enhanceActions, returnFields } from '../forms.js';

document.documentElement.classList.add('js');
// Member names and health come from the proxies the shown pools name,
// read by id and kept live; nothing loads the whole proxies list.
const proxies = labelSource('proxies');

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
	if (p === undefined) return `proxy ${id.slice(0, 8)}…`;
	return p ? p.name : `unknown proxy ${id.slice(0, 8)}`;
}

function card(r) {
	const members = r.members || [];
	const formId = `members-${r.id}`;
	const items = members.map((m, i) => {
		const p = proxies.get(m.proxyId);
		const others = members.filter((_, j) => j !== i);
		const remove = actionForm(`/api/proxy-pools/${r.id}`, 'PATCH', 'Remove', {
			cls: 'btn btn-small btn-danger', key: `remove-${m.proxyId}`, version: r.version,
		});
		remove.append(...memberFields(others));
		// A pool left without members still sends "members": [] as JSON.
		if (!others.length) remove.dataset.empty = 'members';
		// Two lines per member, the same in every card: who it is and its
		// health, then its weight, active flag and removal.
		return h('li', { class: 'member', dataset: { member: m.proxyId } },
			h('span', { class: 'name' }, proxyLabel(m.proxyId),
				p ? h('span', { class: 'muted mono' }, ` ${p.address}`) : null),
			h('span', { class: 'health actions' }, p ? proxyBadges(p) : null),
			h('span', { class: 'member-controls actions' },
				hidden(`members[${i}].proxyId`, m.proxyId, formId),
				h('label', { class: 'check' }, 'Weight ',
					h('input', { type: 'number', min: 1, max: 1000000, name: `members[${i}].weight`, value: m.weight ?? 1, form: formId, 'aria-label': `Weight of ${proxyLabel(m.proxyId)}`, dataset: { key: `w-${m.proxyId}` } })),
				h('label', { class: 'check' },
					hidden(`members[${i}].isActive`, false, formId),
					h('input', { type: 'checkbox', name: `members[${i}].isActive`, value: 'true', checked: m.isActive !== false, form: formId, dataset: { key: `a-${m.proxyId}` } }),
					' Active'),
				remove));
	});
	const n = members.length;
	const addInput = h('input', { type: 'text', id: `add-${r.id}`, name: `members[${n}].proxyId`, required: true, dataset: { key: 'add-select' } });
	const add = h('form', { class: 'actions add-member', method: 'post', action: `/api/proxy-pools/${r.id}`, dataset: { action: '1', version: r.version } },
		...returnFields(), hidden('_method', 'PATCH'), ...memberFields(members),
		h('label', { for: `add-${r.id}`, class: 'sr-only' }, `Proxy to add to ${r.name}`),
		addInput,
		h('label', { class: 'check' }, 'Weight ', h('input', { type: 'number', name: `members[${n}].weight`, min: 1, max: 1000000, value: 1, 'aria-label': 'Weight of the added proxy' })),
		h('button', { type: 'submit', class: 'btn btn-small', dataset: { key: 'add' } }, 'Add'));
	picker(addInput, { collection: 'proxies', label: (p) => `${p.name} (${p.address})`, placeholder: 'Add a proxy: search…' });
	const totalWeight = members.reduce((s, m) => s + (m.isActive !== false ? (m.weight ?? 1) : 0), 0);
	return h('article', { class: `card${r.isEnabled ? '' : ' disabled'}`, dataset: { id: r.id, version: r.version }, 'aria-label': r.name },
		h('div', { class: 'card-head' }, h('h3', {}, r.name), badge(r.poolStrategy.replace('_', ' '), 'strategy'), badge(r.isEnabled ? 'enabled' : 'disabled')),
		r.description ? h('p', { class: 'desc' }, r.description) : null,
		h('dl', { class: 'kv' },
			h('dt', {}, 'Health checks'), h('dd', {}, r.healthCheckEnabled ? `every ${r.healthCheckIntervalSeconds} s, timeout ${r.healthCheckTimeoutSeconds} s, ${r.maxFailures} failures` : 'off'),
			h('dt', {}, 'Members'), h('dd', { dataset: { count: 'members' } }, `${n} (total active weight ${totalWeight})`)),
		n ? h('ul', { class: 'members', 'aria-label': `Members of ${r.name}` }, items) : h('p', { class: 'muted' }, 'No proxies in this pool yet.'),
		n ? h('form', { id: formId, class: 'inline', method: 'post', action: `/api/proxy-pools/${r.id}`, dataset: { action: '1', version: r.version } },
			...returnFields(), hidden('_method', 'PATCH'),
			h('button', { type: 'submit', class: 'btn btn-small', dataset: { key: 'save-members' } }, 'Save weights')) : null,
		add,
		h('div', { class: 'actions' },
			h('button', { type: 'button', class: 'btn btn-small', dataset: { key: 'edit' }, onclick: () => editor.edit(coll.get(r.id)) }, 'Edit'),
			actionForm(`/api/proxy-pools/${r.id}`, 'PATCH', r.isEnabled ? 'Disable' : 'Enable', { fields: { isEnabled: !r.isEnabled }, key: 'toggle' }),
			actionForm(`/api/proxy-pools/${r.id}`, 'DELETE', 'Delete', {
				cls: 'btn btn-small btn-danger', key: 'delete', version: r.version, confirm: `Delete the pool “${r.name}”?`,
			})));
}

const coll = liveList({
	collection: 'proxy-pools', container: $('#list'), render: card,
	noun: ['pool', 'pools'], totalEl: $('#summary'), empty: $('#empty'),
	tools: $('#list-tools'), pager: $('#pager'),
	labels: {
		sort: { name: 'Name', createdAt: 'Created', updatedAt: 'Updated' },
		filters: {
			isEnabled: { label: 'Status', values: { true: 'Enabled', false: 'Disabled' } },
			poolStrategy: { label: 'Strategy', values: { round_robin: 'Round robin', random: 'Random', least_used: 'Least used', weighted: 'Weighted' } },
		},
	},
	// The proxies the shown pools name, asked for by id when not held.
	onChange: (win) => proxies.want(win.items.flatMap((p) => (p.members || []).map((m) => m.proxyId))),
});
// A member's name or health changed: draw the cards again.
proxies.onChange(() => coll.refresh());
startPage({ views: [coll, proxies] });

const editor = bindEditor($('#pool-form'), { coll, what: 'pool', method: 'PATCH' });

enhanceActions($('#list'), (rec, f) => {
	if (rec) coll.upsert(rec);
	else coll.remove(f.getAttribute('action').split('/').pop(), Number(f.dataset.version));
});
