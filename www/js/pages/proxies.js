// proxies.js - the proxies page: table with health, add/edit with a write-only password.

import { startPage } from '../page.js';
import { h, $, timeEl } from '../dom.js';
import { liveList } from '../listview.js';
import { bindEditor } from '../editor.js';
import { proxyHealth, proxyBadges } from '../health.js';
import { actionForm, enhanceActions, fillForm, formToJson } from '../forms.js';

document.documentElement.classList.add('js');

function cell(label, ...content) {
	return h('td', { 'data-label': label }, ...content);
}

function row(r) {
	return h('tr', { dataset: { id: r.id, version: r.version, health: proxyHealth(r), enabled: String(r.isEnabled !== false) } },
		cell('Name', h('strong', {}, r.name), r.description ? h('div', { class: 'muted' }, r.description) : null),
		cell('Address', h('span', { class: 'mono' }, r.address),
			r.username ? h('div', { class: 'muted' }, `user ${r.username}${r.hasPassword ? ' · password set' : ''}`) : null),
		cell('Protocol', r.protocol.toUpperCase()),
		cell('Country', r.countryCode || '—'),
		cell('Health', h('span', { class: 'actions' }, proxyBadges(r)), r.lastStatus ? h('div', { class: 'muted' }, r.lastStatus) : null),
		cell('Last checked', r.lastCheckedAt ? timeEl(r.lastCheckedAt) : 'never'),
		cell('Latency', r.latencyMs === null || r.latencyMs === undefined ? '—' : `${r.latencyMs} ms`),
		cell('', h('div', { class: 'actions' },
			h('button', { type: 'button', class: 'btn btn-small', dataset: { key: 'edit' }, onclick: () => editor.edit(coll.get(r.id)) }, 'Edit'),
			actionForm(`/api/proxies/${r.id}`, 'PATCH', r.isEnabled ? 'Disable' : 'Enable',
				{ fields: { isEnabled: !r.isEnabled }, key: 'toggle' }),
			actionForm(`/api/proxies/${r.id}`, 'DELETE', 'Delete', {
				cls: 'btn btn-small btn-danger', key: 'delete', version: r.version,
				confirm: `Delete the proxy “${r.name}”? It is also removed from every pool.`,
			}))));
}

const coll = liveList({
	collection: 'proxies', container: $('#list'), render: row,
	noun: ['proxy', 'proxies'], totalEl: $('#summary'), empty: $('#empty'),
	tools: $('#list-tools'), pager: $('#pager'), headers: $('#table thead'),
	labels: {
		search: 'Name, address or description',
		sort: { name: 'Name', createdAt: 'Created', updatedAt: 'Updated', countryCode: 'Country', latencyMs: 'Latency' },
		filters: {
			protocol: { label: 'Protocol', values: { http: 'HTTP', https: 'HTTPS', socks4: 'SOCKS4', socks5: 'SOCKS5' } },
			isEnabled: { label: 'Enabled', values: { true: 'Enabled', false: 'Disabled' } },
			isHealthy: { label: 'Health', values: { true: 'Healthy', false: 'Failing' } },
		},
	},
});
startPage({ views: [coll] });

const form = $('#proxy-form');
const pwLabel = $('#password-label');
const pwClear = $('#password-clear');
const pwBox = $('#password-clear-box');
const pwInput = $('#password');
pwBox.addEventListener('change', () => {
	pwInput.disabled = pwBox.checked;
	if (pwBox.checked) pwInput.value = '';
});

const editor = bindEditor(form, {
	coll, what: 'proxy', method: 'PATCH',
	fill: (f, rec) => {
		fillForm(f, rec);
		pwLabel.textContent = rec.hasPassword ? 'Change password' : 'Set password';
		pwClear.hidden = !rec.hasPassword;
	},
	// Write-only password: empty keeps it, "clear" sends null.
	body: (f) => {
		const json = formToJson(f);
		delete json.password;
		if (pwBox.checked && !pwClear.hidden) json.password = null;
		else if (pwInput.value !== '') json.password = pwInput.value;
		return json;
	},
	onOpen: (rec) => {
		if (!rec) {
			pwLabel.textContent = 'Set password';
			pwClear.hidden = true;
		}
		pwBox.checked = false;
		pwInput.disabled = false;
	},
});

enhanceActions($('#list'), (rec, f) => {
	if (rec) coll.upsert(rec);
	else coll.remove(f.getAttribute('action').split('/').pop(), Number(f.dataset.version));
});
