// dashboard.js - the dashboard: live counters, running campaigns with progress, the activity list.

import { startPage } from '../page.js';
import { api } from '../api.js';
import { h, $, badge, progressBar, timeEl, fmtNumber } from '../dom.js';
import { liveList } from '../listview.js';

document.documentElement.classList.add('js');

const ACTIVITY_MAX = 20;
const TOPIC = {
	campaigns: 'Campaign', personas: 'Persona', 'keyword-sets': 'Keyword set',
	proxies: 'Proxy', 'proxy-pools': 'Proxy pool',
};
const PAGE = {
	campaigns: 'campaigns.html', personas: 'personas.html', 'keyword-sets': 'keyword-sets.html',
	proxies: 'proxies.html', 'proxy-pools': 'proxy-pools.html',
};
let activitySeq = 0;
const names = new Map();   // id -> last known name, for "deleted" lines

/* stat shows one figure: grouped digits for people (100,000), the plain
 * number in data-n for scripts and tests. */
function stat(key, value, sub) {
	const el = document.querySelector(`[data-stat="${key}"]`);
	const v = el.querySelector('[data-value]');
	const text = fmtNumber(value);
	if (v.textContent !== text) v.textContent = text;
	v.dataset.n = String(Number(value || 0));
	el.querySelector('[data-sub]').textContent = sub || '';
}

const n = (x) => fmtNumber(x || 0);

/* showAggregates renders the dashboard figures (GET /api/dashboard or a
 * "dashboard" event's data). */
function showAggregates(d) {
	if (!d) return;
	const c = d.campaigns || {};
	const by = c.byStatus || {};
	const active = (by.pending || 0) + (by.queued || 0) + (by.running || 0);
	stat('campaigns', c.total ?? 0, `${n(active)} active · ${n(by.completed)} completed · ${n(by.failed)} failed`);
	stat('running', by.running || 0, `${n(by.queued)} queued · ${n(by.paused)} paused`);
	const p = d.personas || {};
	stat('personas', p.total ?? 0, `${n((p.dns || {}).total)} DNS · ${n((p.http || {}).total)} HTTP · ${n(p.enabled)} enabled`);
	const k = d.keywordSets || {};
	stat('keywordSets', k.total ?? 0, `${n(k.enabled)} enabled`);
	const x = d.proxies || {};
	stat('proxies', x.total ?? 0, `${n(x.healthy)} healthy · ${n(x.failing)} failing · ${n(x.unchecked)} unchecked · ${n(x.enabled)} enabled`);
	const pp = d.proxyPools || {};
	stat('proxyPools', pp.total ?? 0, `${n(pp.enabled)} enabled`);
	const box = $('#by-status');
	box.replaceChildren(...Object.entries(by).map(([s, v]) => h('span', { class: 'actions', dataset: { status: s } }, badge(s), h('span', { dataset: { count: s, n: v } }, n(v)))));
	$('#summary').textContent = `${n(c.total)} campaigns · ${n(p.total)} personas · ${n(x.total)} proxies`;
}

function describe(ev) {
	const what = TOPIC[ev.topic] || ev.topic;
	// Live events carry the record; the dashboard's summaries its name.
	const name = (ev.data && ev.data.name) || ev.name || names.get(ev.id) || (ev.id ? ev.id.slice(0, 8) : '');
	if (name && ev.id) names.set(ev.id, name);
	if (names.size > 1000) names.delete(names.keys().next().value);
	let extra = '';
	if (ev.topic === 'campaigns' && ev.data && ev.action === 'updated')
		extra = ` — ${ev.data.status}, ${Math.round(ev.data.progressPercentage || 0)}%`;
	return [h('a', { href: PAGE[ev.topic] || '#' }, `${what} “${name}”`), ` ${ev.action}${extra}`];
}

function activityItem(ev) {
	return h('li', { dataset: { seq: ev.seq, topic: ev.topic, action: ev.action, id: ev.id || '' } },
		badge(ev.action, ev.action === 'deleted' ? 'failed' : ev.action === 'created' ? 'completed' : 'queued'),
		h('span', { class: 'what' }, describe(ev), ev.actor ? h('span', { class: 'muted' }, ` by ${ev.actor}`) : null),
		timeEl(ev.ts));
}

function addActivity(ev) {
	if (ev.topic === 'dashboard' || ev.seq <= activitySeq) return;
	activitySeq = ev.seq;
	const list = $('#activity');
	list.prepend(activityItem(ev));
	while (list.children.length > ACTIVITY_MAX) list.lastChild.remove();
	$('#activity-empty').hidden = list.children.length > 0;
}

async function loadDashboard() {
	const d = await api.get('/api/dashboard');
	showAggregates(d);
	const list = $('#activity');
	const events = (d.activity || []).filter((e) => e.topic !== 'dashboard').sort((a, b) => b.seq - a.seq);
	for (const e of [...events].reverse()) if (e.name && e.id) names.set(e.id, e.name);
	list.replaceChildren(...events.slice(0, ACTIVITY_MAX).map(activityItem));
	activitySeq = Math.max(d.seq || 0, events.length ? events[0].seq : 0);
	$('#activity-empty').hidden = list.children.length > 0;
	return d.seq || 0;
}

function runningItem(r) {
	return h('li', { dataset: { id: r.id, version: r.version } },
		h('div', { class: 'row' }, h('a', { href: 'campaigns.html?status=running' }, r.name),
			h('span', { class: 'muted' }, `${fmtNumber(r.processedItems)} / ${fmtNumber(r.totalItems)}`)),
		progressBar(r.progressPercentage, `Progress of ${r.name}`));
}

// The running campaigns: a window of ten, most recently updated first,
// kept live like any list (GET /api/campaigns?status=running&sort=-updatedAt&limit=10).
const running = liveList({
	collection: 'campaigns', container: $('#running'), render: runningItem, url: false,
	empty: $('#running-empty'),
	defaults: { sort: '-updatedAt', filters: { status: 'running' }, limit: 10 },
});

startPage({
	views: [running],
	loaders: { dashboard: loadDashboard },
	handlers: { dashboard: (ev) => showAggregates(ev.data) },
	extraTopics: ['personas', 'keyword-sets', 'proxies', 'proxy-pools'],
	onAnyEvent: addActivity,
});
