// campaigns.js - the campaigns page: a live window with status and type filters, progress, actions, create forms per type.

import { startPage } from '../page.js';
import { h, $, badge, progressBar, timeEl, fmtNumber } from '../dom.js';
import { liveList } from '../listview.js';
import { labelSource } from '../labels.js';
import { picker } from '../picker.js';
import { api } from '../api.js';
import { bindEditor } from '../editor.js';
import { actionForm, enhanceActions, fillForm, formToJson } from '../forms.js';

document.documentElement.classList.add('js');
// Source campaigns named by the shown cards, read by id and kept live.
const sources = labelSource('campaigns');

const TYPES = {
	domain_generation: 'Domain generation',
	dns_validation: 'DNS validation',
	http_keyword_validation: 'HTTP keyword validation',
};
/* The actions a person may take from each status (run, complete and fail
 * belong to workers). */
const ACTIONS = {
	pending: ['start', 'cancel'],
	queued: ['pause', 'cancel'],
	running: ['pause', 'cancel'],
	paused: ['resume', 'cancel'],
	failed: ['start', 'archive'],
	completed: ['archive'],
	cancelled: ['archive'],
	archived: [],
};
const LABEL = { start: 'Start', pause: 'Pause', resume: 'Resume', cancel: 'Cancel', archive: 'Archive' };

const fmt = fmtNumber;

function params(r) {
	if (r.campaignType === 'domain_generation' && r.domainGenerationParams) {
		const p = r.domainGenerationParams;
		return `${p.patternType} · ${p.variableLength} chars of “${p.characterSet.slice(0, 12)}${p.characterSet.length > 12 ? '…' : ''}” · ${p.tld}`;
	}
	const p = r.dnsValidationParams || r.httpKeywordParams;
	if (!p) return null;
	const src = coll.get(p.sourceCampaignId) || sources.get(p.sourceCampaignId);
	return `from ${src ? src.name : 'campaign ' + String(p.sourceCampaignId).slice(0, 8)} · ${p.personaIds.length} persona(s)` +
		(p.keywordSetIds ? ` · ${p.keywordSetIds.length} keyword set(s)` : '');
}

function card(r) {
	const pct = r.progressPercentage ?? (r.totalItems ? (100 * r.processedItems) / r.totalItems : 0);
	const acts = [h('button', {
		type: 'button', class: 'btn btn-small', dataset: { key: 'edit' },
		onclick: () => editFor(r),
	}, 'Edit')];
	acts.push(...(ACTIONS[r.status] || []).map((a) => actionForm(`/api/campaigns/${r.id}/${a}`, 'POST', LABEL[a], {
		key: a, cls: a === 'cancel' ? 'btn btn-small btn-danger' : 'btn btn-small',
	})));
	if (r.status !== 'running' && r.status !== 'queued') {
		acts.push(actionForm(`/api/campaigns/${r.id}`, 'DELETE', 'Delete', {
			cls: 'btn btn-small btn-danger', key: 'delete', version: r.version, confirm: `Delete the campaign “${r.name}”?`,
		}));
	}
	const p = params(r);
	return h('article', { class: 'card', dataset: { id: r.id, version: r.version, status: r.status, shape: shape(r) }, 'aria-label': r.name },
		h('div', { class: 'card-head' }, h('h3', {}, r.name), badge(r.status)),
		h('p', { class: 'desc' }, TYPES[r.campaignType] || r.campaignType, p ? ` — ${p}` : ''),
		progressBar(pct, `Progress of ${r.name}`),
		h('dl', { class: 'kv' },
			h('dt', {}, 'Processed'), h('dd', { dataset: { field: 'processed' } }, `${fmt(r.processedItems)} of ${fmt(r.totalItems)}`),
			h('dt', {}, 'Results'), h('dd', { dataset: { field: 'results' } }, `${fmt(r.successfulItems)} ok · ${fmt(r.failedItems)} failed`),
			r.startedAt ? [h('dt', {}, 'Started'), h('dd', {}, timeEl(r.startedAt))] : null,
			r.completedAt ? [h('dt', {}, 'Ended'), h('dd', {}, timeEl(r.completedAt))] : null,
			r.errorMessage ? [h('dt', {}, 'Error'), h('dd', { class: 'field-error' }, r.errorMessage)] : null),
		r.description ? h('p', { class: 'desc' }, r.description) : null,
		acts.length ? h('div', { class: 'actions' }, acts) : null);
}

/* shape is everything a card shows except the progress counters: when
 * it is the same, a new version is a worker's progress report. */
function shape(r) {
	const p = r.dnsValidationParams || r.httpKeywordParams;
	return JSON.stringify([r.status, r.name, r.description, r.startedAt, r.completedAt, r.errorMessage,
		r.campaignType, params(r), p ? p.sourceCampaignId : null]);
}

/* patchProgress updates a card in place when only its progress moved. */
function patchProgress(el, r) {
	if (el.dataset.shape !== shape(r)) return false;
	const pct = r.progressPercentage ?? (r.totalItems ? (100 * r.processedItems) / r.totalItems : 0);
	const bar = el.querySelector('.progress');
	const fresh = progressBar(pct, `Progress of ${r.name}`);
	if (bar) bar.replaceWith(fresh);
	const processed = el.querySelector('[data-field="processed"]');
	if (processed) processed.textContent = `${fmt(r.processedItems)} of ${fmt(r.totalItems)}`;
	const results = el.querySelector('[data-field="results"]');
	if (results) results.textContent = `${fmt(r.successfulItems)} ok · ${fmt(r.failedItems)} failed`;
	return true;
}

const STATUS_TEXT = {
	pending: 'Pending', queued: 'Queued', running: 'Running', paused: 'Paused', completed: 'Completed',
	failed: 'Failed', cancelled: 'Cancelled', archived: 'Archived',
};
const coll = liveList({
	collection: 'campaigns', container: $('#list'), render: card, patch: patchProgress,
	noun: ['campaign', 'campaigns'], totalEl: $('#summary'), empty: $('#empty'),
	tools: $('#list-tools'), pager: $('#pager'),
	labels: {
		sort: { name: 'Name', createdAt: 'Created', updatedAt: 'Updated', status: 'Status', progressPercentage: 'Progress' },
		filters: {
			status: { label: 'Status', values: STATUS_TEXT },
			campaignType: { label: 'Type', values: TYPES },
		},
	},
	onChange: (win) => sources.want(win.items.map((r) => {
		const p = r.dnsValidationParams || r.httpKeywordParams;
		return p && !win.get(p.sourceCampaignId) ? p.sourceCampaignId : null;
	}).filter(Boolean)),
});
sources.onChange(() => coll.refresh());
startPage({ views: [coll, sources] });

/* ---- create and edit forms: one per type; the type select shows one ----
 * An edit PATCHes what the form holds: name, description, total items
 * and the type's parameters (the type itself never changes, the status
 * moves only by the actions, progress comes from workers). */

const forms = { gen: $('#form-gen'), dnsv: $('#form-dnsv'), httpv: $('#form-httpv') };
const KEY_OF = { domain_generation: 'gen', dns_validation: 'dnsv', http_keyword_validation: 'httpv' };
const typePicker = $('#campaign-type');
const typeBox = $('#type-picker');
const panelTitle = $('#new-campaign-title');
typeBox.hidden = false;
function showForm() {
	for (const [k, f] of Object.entries(forms)) f.hidden = k !== typePicker.value;
}
typePicker.addEventListener('change', showForm);
showForm();

/* Pickers: search by name (GET ?q=), never a whole list. Without
 * JavaScript the same fields are plain id inputs. Names of the records
 * an edit starts from are read once by id. */
const notHttp = (r) => r.campaignType !== 'http_keyword_validation';
const names = { campaigns: new Map(), personas: new Map(), 'keyword-sets': new Map(), 'proxy-pools': new Map() };
const pickers = {};
for (const [path, o] of Object.entries({
	'dnsValidationParams.sourceCampaignId': { sel: '#dnsv-source', collection: 'campaigns' },
	'httpKeywordParams.sourceCampaignId': { sel: '#httpv-source', collection: 'campaigns' },
	'dnsValidationParams.personaIds': { sel: '#dnsv-personas-dns', collection: 'personas', filters: { personaType: 'dns' }, multiple: true },
	'httpKeywordParams.personaIds': { sel: '#httpv-personas-http', collection: 'personas', filters: { personaType: 'http' }, multiple: true },
	'httpKeywordParams.keywordSetIds': { sel: '#httpv-keyword-sets', collection: 'keyword-sets', multiple: true },
	'httpKeywordParams.proxyPoolId': { sel: '#httpv-pool', collection: 'proxy-pools' },
})) {
	const el = $(o.sel);
	if (!el) continue;
	pickers[path] = {
		collection: o.collection,
		pick: picker(el, {
			...o, names: names[o.collection],
			label: (r) => (r.isEnabled === false ? `${r.name} (disabled)` : r.name),
			accept: o.collection === 'campaigns' ? notHttp : null,
		}),
	};
}

const ids = (v) => [].concat(v ?? []).filter(Boolean);

/* setPicked shows ids in a picker, then their names once read. */
async function setPicked({ collection, pick }, list) {
	const known = names[collection];
	for (const id of list) {
		const rec = coll.get(id) || (collection === 'campaigns' ? sources.get(id) : null);
		if (collection === 'campaigns' && rec) known.set(id, rec);
	}
	pick.set(list);
	const missing = list.filter((id) => !known.has(id));
	if (!missing.length) return;
	try {
		const qs = new URLSearchParams({ ids: missing.join(','), limit: '100' });
		const answer = await api.get(`/api/${collection}?${qs}`);
		for (const r of answer.items || []) known.set(r.id, r);
		pick.set(list);
	} catch {
		// The chips keep showing the ids.
	}
}

/* fillCampaign puts a record (or what a failed post typed) into form. */
function fillCampaign(form, rec) {
	fillForm(form, rec);
	for (const [path, pk] of Object.entries(pickers)) {
		if (!form.contains(pk.pick.search)) continue;
		const [block, field] = path.split('.');
		setPicked(pk, ids((rec[block] || {})[field]));
	}
	const ports = (rec.httpKeywordParams || {}).targetHttpPorts;
	for (const box of form.querySelectorAll('input[type="checkbox"][name="httpKeywordParams.targetHttpPorts"]'))
		box.checked = ids(ports).map(Number).includes(Number(box.value));
}

/* campaignBody is the form as JSON; an edit also sends the lists and
 * the pool that were emptied, which a merge patch would otherwise keep. */
function campaignBody(form) {
	const json = formToJson(form);
	if (form.dataset.editing && form === forms.httpv) {
		const p = json.httpKeywordParams || (json.httpKeywordParams = {});
		if (!('proxyPoolId' in p)) p.proxyPoolId = null;
		if (!('keywordSetIds' in p)) p.keywordSetIds = [];
	}
	return json;
}

const editors = {};
for (const [key, f] of Object.entries(forms)) {
	editors[key] = bindEditor(f, {
		coll, what: 'campaign', method: 'PATCH', fill: fillCampaign, body: campaignBody,
		onOpen: (rec, how) => {
			if (!rec && !how) {
				for (const pk of Object.values(pickers)) if (f.contains(pk.pick.search)) pk.pick.clear();
				// Back to creating: every type can be chosen again.
				if (!Object.values(editors).some((e) => e.editing)) {
					typeBox.hidden = false;
					panelTitle.textContent = 'New campaign';
				}
				return;
			}
			typePicker.value = key;
			showForm();
			typeBox.hidden = Boolean(rec);
			panelTitle.textContent = rec ? 'Edit campaign' : 'New campaign';
		},
	});
}

/* editFor opens the form of r's type on r; the other forms go back to
 * creating. */
function editFor(r) {
	const key = KEY_OF[r.campaignType];
	if (!key) return;
	for (const [k, e] of Object.entries(editors)) if (k !== key && e.editing) e.create();
	editors[key].edit(coll.get(r.id) || r);
}

enhanceActions($('#list'), (rec, f) => {
	if (rec) coll.upsert(rec);
	else coll.remove(f.getAttribute('action').split('/').pop(), Number(f.dataset.version));
});
