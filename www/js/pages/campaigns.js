// campaigns.js - the campaigns page: status tabs with counts, live progress, actions, create forms per type.

import { startPage } from '../page.js';
import { h, $, $$, badge, progressBar, timeEl } from '../dom.js';
import { bindList } from '../collection.js';
import { bindEditor } from '../editor.js';
import { actionForm, enhanceActions } from '../forms.js';
import { tabs, setCount } from '../widgets.js';

document.documentElement.classList.add('js');
const { colls } = startPage({ collections: ['campaigns', 'personas', 'keyword-sets', 'proxy-pools'] });
const coll = colls.campaigns;

const TYPES = {
	domain_generation: 'Domain generation',
	dns_validation: 'DNS validation',
	http_keyword_validation: 'HTTP keyword validation',
};
const TABS = {
	all: () => true,
	active: (r) => ['pending', 'queued', 'running'].includes(r.status),
	paused: (r) => r.status === 'paused',
	completed: (r) => r.status === 'completed',
	failed: (r) => r.status === 'failed',
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
let tab = (location.hash || '').slice(1) in TABS ? location.hash.slice(1) : 'all';

const fmt = (n) => Number(n || 0).toLocaleString();

function params(r) {
	if (r.campaignType === 'domain_generation' && r.domainGenerationParams) {
		const p = r.domainGenerationParams;
		return `${p.patternType} · ${p.variableLength} chars of “${p.characterSet.slice(0, 12)}${p.characterSet.length > 12 ? '…' : ''}” · ${p.tld}`;
	}
	const p = r.dnsValidationParams || r.httpKeywordParams;
	if (!p) return null;
	const src = coll.get(p.sourceCampaignId);
	return `from ${src ? src.name : 'campaign ' + String(p.sourceCampaignId).slice(0, 8)} · ${p.personaIds.length} persona(s)` +
		(p.keywordSetIds ? ` · ${p.keywordSetIds.length} keyword set(s)` : '');
}

function card(r) {
	const pct = r.progressPercentage ?? (r.totalItems ? (100 * r.processedItems) / r.totalItems : 0);
	const acts = (ACTIONS[r.status] || []).map((a) => actionForm(`/api/campaigns/${r.id}/${a}`, 'POST', LABEL[a], {
		key: a, cls: a === 'cancel' ? 'btn btn-small btn-danger' : 'btn btn-small',
	}));
	if (r.status !== 'running' && r.status !== 'queued') {
		acts.push(actionForm(`/api/campaigns/${r.id}`, 'DELETE', 'Delete', {
			cls: 'btn btn-small btn-danger', key: 'delete', version: r.version, confirm: `Delete the campaign “${r.name}”?`,
		}));
	}
	const p = params(r);
	return h('article', { class: 'card', dataset: { id: r.id, version: r.version, status: r.status }, 'aria-label': r.name },
		h('div', { class: 'card-head' }, h('h3', {}, r.name), badge(r.status)),
		h('p', { class: 'desc' }, TYPES[r.campaignType] || r.campaignType, p ? ` — ${p}` : ''),
		progressBar(pct, `Progress of ${r.name}`),
		h('dl', { class: 'kv' },
			h('dt', {}, 'Processed'), h('dd', { dataset: { field: 'processed' } }, `${fmt(r.processedItems)} of ${fmt(r.totalItems)}`),
			h('dt', {}, 'Results'), h('dd', {}, `${fmt(r.successfulItems)} ok · ${fmt(r.failedItems)} failed`),
			r.startedAt ? [h('dt', {}, 'Started'), h('dd', {}, timeEl(r.startedAt))] : null,
			r.completedAt ? [h('dt', {}, 'Ended'), h('dd', {}, timeEl(r.completedAt))] : null,
			r.errorMessage ? [h('dt', {}, 'Error'), h('dd', { class: 'field-error' }, r.errorMessage)] : null),
		r.description ? h('p', { class: 'desc' }, r.description) : null,
		acts.length ? h('div', { class: 'actions' }, acts) : null);
}

function counts() {
	for (const [name, keep] of Object.entries(TABS)) {
		let n = 0;
		for (const r of coll.byId.values()) if (keep(r)) n++;
		setCount(document, name, n);
	}
	const running = [...coll.byId.values()].filter((r) => r.status === 'running').length;
	$('#summary').textContent = `${coll.size} campaigns · ${running} running`;
}

const view = bindList(coll, $('#list'), card, { keep: (r) => TABS[tab](r), empty: $('#empty'), onChange: counts });

tabs($('[role="tablist"]'), (name) => {
	tab = name;
	if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
	view.refresh();
}).select(tab);

/* ---- create forms: one per type; the picker shows one of them ---- */

const forms = { gen: $('#form-gen'), dnsv: $('#form-dnsv'), httpv: $('#form-httpv') };
const picker = $('#campaign-type');
$('#type-picker').hidden = false;
function showForm() {
	for (const [k, f] of Object.entries(forms)) f.hidden = k !== picker.value;
}
picker.addEventListener('change', showForm);
showForm();
for (const f of Object.values(forms)) bindEditor(f, { coll, what: 'campaign' });

/* Select options follow the live lists, keeping what is selected. */
const SOURCES = {
	campaigns: () => coll.all().filter((r) => r.campaignType !== 'http_keyword_validation'),
	'personas-dns': () => colls.personas.all().filter((r) => r.personaType === 'dns'),
	'personas-http': () => colls.personas.all().filter((r) => r.personaType === 'http'),
	'keyword-sets': () => colls['keyword-sets'].all(),
	'proxy-pools': () => colls['proxy-pools'].all(),
};
function fillSelects() {
	for (const sel of $$('select[data-options]')) {
		const items = SOURCES[sel.dataset.options]();
		const chosen = new Set([...sel.selectedOptions].map((o) => o.value));
		const fixed = [...sel.options].filter((o) => o.value === '');
		sel.replaceChildren(...fixed, ...items.map((r) => h('option', {
			value: r.id, selected: chosen.has(r.id),
		}, r.isEnabled === false ? `${r.name} (disabled)` : r.name)));
		if (!sel.multiple && !sel.value && fixed[0]) fixed[0].selected = true;
	}
}
for (const c of Object.values(colls)) {
	c.on((kind, rec, old) => {
		// Progress reports change neither names nor membership.
		if (kind === 'updated' && old && old.name === rec.name && old.isEnabled === rec.isEnabled) return;
		fillSelects();
	});
}

enhanceActions($('#list'), (rec, f) => {
	if (rec) coll.upsert(rec);
	else coll.remove(f.getAttribute('action').split('/').pop(), Number(f.dataset.version));
});
