// keyword-sets.js - the keyword sets page: table and a rule editor whose regex errors come from the server.

import { startPage } from '../page.js';
import { h, $, $$, badge, timeEl } from '../dom.js';
import { liveList } from '../listview.js';
import { bindEditor } from '../editor.js';
import { actionForm, enhanceActions, fillForm } from '../forms.js';

document.documentElement.classList.add('js');

function row(r) {
	const td = (label, ...c) => h('td', { 'data-label': label }, ...c);
	const kinds = (r.rules || []).reduce((m, x) => { m[x.ruleType] = (m[x.ruleType] || 0) + 1; return m; }, {});
	return h('tr', { dataset: { id: r.id, version: r.version } },
		td('Name', h('strong', {}, r.name)),
		td('Description', r.description || '—'),
		td('Rules', `${r.ruleCount ?? (r.rules || []).length}`,
			Object.keys(kinds).length ? h('div', { class: 'muted' }, Object.entries(kinds).map(([k, v]) => `${v} ${k}`).join(', ')) : null),
		td('Status', badge(r.isEnabled ? 'enabled' : 'disabled')),
		td('Updated', timeEl(r.updatedAt)),
		td('', h('div', { class: 'actions' },
			h('button', { type: 'button', class: 'btn btn-small', dataset: { key: 'edit' }, onclick: () => editor.edit(coll.get(r.id)) }, 'Edit'),
			actionForm(`/api/keyword-sets/${r.id}`, 'PATCH', r.isEnabled ? 'Disable' : 'Enable',
				{ fields: { isEnabled: !r.isEnabled }, key: 'toggle' }),
			actionForm(`/api/keyword-sets/${r.id}`, 'DELETE', 'Delete', {
				cls: 'btn btn-small btn-danger', key: 'delete', version: r.version,
				confirm: `Delete the keyword set “${r.name}”?`,
			}))));
}

const coll = liveList({
	collection: 'keyword-sets', container: $('#list'), render: row,
	noun: ['keyword set', 'keyword sets'], totalEl: $('#summary'), empty: $('#empty'),
	tools: $('#list-tools'), pager: $('#pager'), headers: $('#table thead'),
	labels: {
		sort: { name: 'Name', createdAt: 'Created', updatedAt: 'Updated', ruleCount: 'Rules' },
		filters: { isEnabled: { label: 'Status', values: { true: 'Enabled', false: 'Disabled' } } },
	},
});
startPage({ views: [coll] });

/* ---- the rule editor: rows named rules[i].field, renumbered on change ---- */

const rulesBox = $('#rules');
let ruleKey = 0;

function ruleRow(rule = {}) {
	const k = ++ruleKey;
	const id = (f) => `rule-${k}-${f}`;
	const rowEl = h('div', { class: 'rule-row', dataset: { rule: '' } },
		rule.id ? h('input', { type: 'hidden', 'data-f': 'id', value: rule.id }) : null,
		h('div', { class: 'field' }, h('label', { for: id('pattern') }, 'Pattern'),
			h('input', { type: 'text', id: id('pattern'), 'data-f': 'pattern', value: rule.pattern || '', maxlength: 1000, required: true, dataset: { key: id('pattern') } })),
		h('div', { class: 'field' }, h('label', { for: id('type') }, 'Type'),
			h('select', { id: id('type'), 'data-f': 'ruleType' },
				h('option', { value: 'string', selected: rule.ruleType !== 'regex' }, 'String'),
				h('option', { value: 'regex', selected: rule.ruleType === 'regex' }, 'Regex'))),
		h('div', { class: 'field' }, h('label', { for: id('category') }, 'Category'),
			h('input', { type: 'text', id: id('category'), 'data-f': 'category', value: rule.category || '', dataset: { empty: 'null' } })),
		h('div', { class: 'field' }, h('label', { for: id('context') }, 'Context chars'),
			h('input', { type: 'number', id: id('context'), 'data-f': 'contextChars', min: 0, max: 10000, placeholder: '0', value: rule.contextChars ?? '' })),
		h('div', { class: 'field field-check' }, h('label', { class: 'check' },
			h('input', { type: 'hidden', 'data-f': 'isCaseSensitive', value: 'false', dataset: { type: 'bool' } }),
			h('input', { type: 'checkbox', 'data-f': 'isCaseSensitive', value: 'true', checked: Boolean(rule.isCaseSensitive) }),
			' Case sensitive')),
		h('div', { class: 'field' }, h('button', {
			type: 'button', class: 'btn btn-small btn-danger', 'aria-label': 'Remove this rule',
			onclick: (e) => {
				const r = e.target.closest('.rule-row');
				const next = r.nextElementSibling || r.previousElementSibling;
				r.remove();
				renumber();
				const f = next && next.querySelector('input[type="text"]');
				(f || $('#add-rule')).focus();
			},
		}, 'Remove')));
	return rowEl;
}

/* renumber gives every control its rules[i].field name, in row order, so
 * a server error such as rules[2].pattern lands next to that row. */
function renumber() {
	$$('.rule-row', rulesBox).forEach((row, i) => {
		for (const el of $$('[data-f]', row)) el.name = `rules[${i}].${el.dataset.f}`;
		row.setAttribute('aria-label', `Rule ${i + 1}`);
	});
}

function setRules(rules) {
	rulesBox.replaceChildren(...(rules || []).map(ruleRow));
	renumber();
}

$('#rules-nojs').hidden = true;
const addBtn = $('#add-rule');
addBtn.hidden = false;
addBtn.addEventListener('click', () => {
	const r = ruleRow();
	rulesBox.appendChild(r);
	renumber();
	r.querySelector('input[type="text"]').focus();
});

const form = $('#ks-form');
const editor = bindEditor(form, {
	coll, what: 'keyword set',
	fill: (f, rec) => {
		fillForm(f, rec);
		setRules(rec.rules);
	},
	// A restored failure brought its own rules.
	onOpen: (rec, how) => { if (!rec && !how) setRules([]); },
});

enhanceActions($('#list'), (rec, f) => {
	if (rec) coll.upsert(rec);
	else coll.remove(f.getAttribute('action').split('/').pop(), Number(f.dataset.version));
});
