// listview.js - a list page's live window on screen: URL state, toolbar, paging, total, batched row patches, fills.

import { api, ApiError } from './api.js';
import { h, $, replaceKeepingFocus, announce } from './dom.js';
import { LiveWindow, LISTS, DEFAULT_SORT, Q_MIN, parseSort } from './window.js';

export const PAGE_SIZES = [25, 50, 100, 200];
export const DEFAULT_LIMIT = 50;
const DEBOUNCE_MS = 250;
const RENDER_BUDGET_MS = 8;   // re-rendering per frame; the rest goes on next frame
const RETRY_MS = [1000, 2000, 5000, 10000, 30000];

const fmt = (n) => Number(n || 0).toLocaleString('en-US');

/* readState reads the view of a page URL: q, sort, filters, cursor, limit. */
export function readState(search, spec, defaults = {}) {
	const p = new URLSearchParams(search);
	const st = {
		q: p.get('q') || '',
		sort: p.get('sort') || defaults.sort || DEFAULT_SORT,
		filters: { ...(defaults.filters || {}) },
		after: p.get('after') || null,
		before: p.get('before') || null,
		limit: Number(p.get('limit')) || defaults.limit || DEFAULT_LIMIT,
	};
	if (!parseSort(st.sort, spec)) st.sort = defaults.sort || DEFAULT_SORT;
	if (!PAGE_SIZES.includes(st.limit)) st.limit = Math.min(Math.max(1, Math.floor(st.limit)), 1000) || DEFAULT_LIMIT;
	for (const [k, values] of Object.entries(spec.filters)) {
		const v = p.get(k);
		if (v !== null && values.includes(v)) st.filters[k] = v;
		else if (v === '') delete st.filters[k];
	}
	if (st.after && st.before) st.before = null;
	return st;
}

/* writeState puts the view into the page URL, keeping other parameters
 * (?share=0) as they are. */
function stateUrl(st, spec, defaults) {
	const p = new URLSearchParams(location.search);
	for (const k of ['q', 'sort', 'after', 'before', 'limit', ...Object.keys(spec.filters)]) p.delete(k);
	if (st.q) p.set('q', st.q);
	if (st.sort !== (defaults.sort || DEFAULT_SORT)) p.set('sort', st.sort);
	for (const [k, v] of Object.entries(st.filters)) {
		if (defaults.filters && defaults.filters[k] === v) continue;
		p.set(k, v);
	}
	for (const k of Object.keys(defaults.filters || {})) if (!(k in st.filters)) p.set(k, '');
	if (st.after) p.set('after', st.after);
	if (st.before) p.set('before', st.before);
	if (st.limit !== (defaults.limit || DEFAULT_LIMIT)) p.set('limit', String(st.limit));
	const qs = p.toString();
	return `${location.pathname}${qs ? `?${qs}` : ''}${location.hash}`;
}

/* nextFrame runs fn on the next animation frame, or after 100 ms when
 * frames do not come (a hidden tab gets none). */
function nextFrame(fn) {
	let done = false;
	const run = () => {
		if (done) return;
		done = true;
		fn();
	};
	if (typeof requestAnimationFrame === 'function' && !document.hidden) requestAnimationFrame(run);
	setTimeout(run, 100);
}

/*
 * liveList shows one live window of a collection in container.
 *   collection: its name (also the topic);
 *   render(rec): the row element (data-id and data-version are set here);
 *   patch(el, rec): optional; updates a shown row in place and answers
 *     true when that was enough (a worker's progress), false to render it
 *     again — in bursts a few text nodes cost far less than a new card;
 *   labels: {sort: {field: "Name"}, filters: {field: {label, values: {v: text}}}};
 *   noun: [singular, plural] for the total;
 *   url: false for a fixed window that is not in the page URL (dashboard);
 *   defaults: {sort, filters, limit} of the view;
 *   tools, pager: elements to fill with the search/sort/filter controls
 *   and the paging controls (omitted: none);
 *   headers: a <thead> whose th[data-sort] become sort buttons;
 *   empty: the element shown when the window is empty.
 * Returns the view: {load() -> seq, reload() -> seq, onEvent(ev), get(id),
 * upsert(rec), remove(id, version), on(fn), refresh(), state, win}.
 */
export function liveList(opts) {
	const {
		collection, container, render, patch = null, noun = ['record', 'records'], url = true,
		defaults = {}, tools = null, pager = null, headers = null, empty = null,
		labels = {}, totalEl = null, onChange = null,
	} = opts;
	const spec = LISTS[collection];
	let state = url ? readState(location.search, spec, defaults)
		: { q: '', sort: defaults.sort || DEFAULT_SORT, filters: { ...(defaults.filters || {}) }, after: null, before: null, limit: defaults.limit || DEFAULT_LIMIT };
	let win = null;
	let gen = 0;
	let ctl = null;
	let queue = [];
	let scheduled = false;
	let filling = null;
	let news = 0;
	const rowEls = new Map();
	const listeners = new Set();
	const ui = {};

	function emit(kind, rec) {
		for (const fn of listeners) fn(kind, rec);
	}

	function makeWindow(st) {
		const anchor = st.after ? { after: st.after } : st.before ? { before: st.before } : null;
		return new LiveWindow({ collection, limit: st.limit, anchor, params: { sort: st.sort, filters: st.filters, q: st.q } });
	}

	/* fetchWindow reads w's rows from the API (one request). */
	function fetchWindow(w, signal) {
		return api.get(`/api/${collection}?${w.query()}`, { signal });
	}

	function setReady(on) {
		container.dataset.windowReady = on ? 'true' : 'false';
		if (on) document.documentElement.dataset.windowReady = 'true';
	}

	/*
	 * open loads the window for state st: a new LiveWindow holds the
	 * events that arrive while the request is on its way and replays those
	 * the answer does not include. Resolves with the answer's seq.
	 */
	async function open(st, { replace = false, initial = false } = {}) {
		const my = ++gen;
		if (ctl) ctl.abort();
		ctl = new AbortController();
		filling = null;
		const w = makeWindow(st);
		w.requestFill();
		win = w;
		state = st;
		news = 0;
		setReady(false);
		showControls();
		for (let i = 0; ; i++) {
			try {
				const answer = await fetchWindow(w, ctl.signal);
				if (my !== gen) return answer.seq;
				// A page back that reaches the start: with a full page it is
				// the first page; with fewer rows the first page has more.
				if (st.before && !answer.prev) {
					const first = { ...st, before: null };
					if ((answer.items || []).length < st.limit) return open(first, { replace: true });
					w.setAnchor(null);
					state = first;
					if (url) history.replaceState(null, '', stateUrl(first, spec, defaults));
				}
				const out = w.fillDone(answer);
				render_(true);
				setReady(true);
				if (out.fill) fill();
				return answer.seq;
			} catch (e) {
				if (my !== gen) return 0;
				if (e instanceof ApiError && e.status === 400 && (st.after || st.before || st.q)) {
					// A cursor or a search the server refuses: say so, show the first page.
					announce(e.message, 'error');
					const first = { ...st, after: null, before: null };
					if (e.code === 'bad_query') first.q = '';
					if (url) history.replaceState(null, '', stateUrl(first, spec, defaults));
					return open(first, { replace, initial });
				}
				if (e && e.name === 'AbortError') return 0;
				if (initial) throw e;   // the page's first load: startPage retries
				await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(i, RETRY_MS.length - 1)]));
				if (my !== gen) return 0;
			}
		}
	}

	/* fill reads the window again after a gap: one request at a time; gaps
	 * found while one is on its way cause one more. */
	function fill() {
		if (filling) return filling;
		const my = gen;
		const w = win;
		filling = (async () => {
			for (let i = 0; ; i++) {
				try {
					const answer = await fetchWindow(w, ctl.signal);
					if (my !== gen) return;
					const out = w.fillDone(answer);
					news += out.outside;
					render_(true);
					setReady(true);
					if (!out.fill) return;
					i = -1;
				} catch (e) {
					if (my !== gen || (e && e.name === 'AbortError')) return;
					await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(i, RETRY_MS.length - 1)]));
				}
			}
		})().finally(() => { if (my === gen) filling = null; });
		return filling;
	}

	/* onEvent queues an event; all queued events are applied in one go on
	 * the next frame, then the rows that changed are patched. */
	function onEvent(ev) {
		if (!ev || ev.topic !== collection) return;
		queue.push(ev);
		if (scheduled) return;
		scheduled = true;
		nextFrame(flush);
	}

	// What a benchmark reads: flushes, events applied, the longest flush.
	const stats = { flushes: 0, events: 0, maxFlushMs: 0 };

	function flush() {
		scheduled = false;
		const evs = queue;
		queue = [];
		if (!win) return;
		const t0 = performance.now();
		try {
			applyAll(evs);
		} finally {
			stats.flushes++;
			stats.events += evs.length;
			stats.maxFlushMs = Math.max(stats.maxFlushMs, performance.now() - t0);
		}
	}

	function applyAll(evs) {
		let changed = false;
		let gap = false;
		for (const ev of evs) {
			const r = win.apply(ev);
			if (r.changed) changed = true;
			if (r.fill) gap = true;
			if (r.outside) news++;
			if (ev.action === 'deleted') emit('deleted', { id: ev.id, version: ev.version });
			else if (ev.data) emit(ev.action, ev.data);
		}
		if (gap) {
			setReady(false);
			fill();
		}
		render_(changed || gap || behind);
	}

	/* render_ patches the container to the window: rows whose version
	 * changed are rendered again (keeping focus), others only moved. */
	/*
	 * render_ patches the container to the window: rows are placed in the
	 * window's order, rows whose version changed are rendered again
	 * (keeping focus). Re-rendering stops after RENDER_BUDGET_MS and goes
	 * on next frame, so a burst never makes one long task; data-seq says
	 * how far the rows are current only once every row is.
	 */
	let behind = false;
	function render_(changed) {
		if (changed || behind) {
			const t0 = performance.now();
			let incomplete = false;
			const active = document.activeElement;
			const want = new Set();
			let ref = container.firstElementChild;
			for (const rec of win.items) {
				want.add(rec.id);
				let el = rowEls.get(rec.id);
				if (!el || el.dataset.version !== String(rec.version) || el.dataset.stale) {
					// A row not on screen yet is always drawn; a changed one
					// waits for the next frame when this one is used up.
					if (el && performance.now() - t0 > RENDER_BUDGET_MS) {
						incomplete = true;
					} else if (el && el.isConnected && !el.dataset.stale && patch && patch(el, rec)) {
						el.dataset.version = String(rec.version);
					} else {
						const fresh = render(rec);
						if (el && el.isConnected) {
							const wasRef = el === ref;
							replaceKeepingFocus(el, fresh);
							if (wasRef) ref = fresh;
						}
						el = fresh;
						rowEls.set(rec.id, el);
					}
				}
				if (el !== ref) container.insertBefore(el, ref);
				else ref = ref.nextElementSibling;
			}
			for (const [id, el] of rowEls) {
				if (!want.has(id)) {
					el.remove();
					rowEls.delete(id);
				}
			}
			if (empty) empty.hidden = win.items.length > 0;
			// A row that moved took the focus with it out of the document.
			if (active && active !== document.activeElement && active.isConnected && container.contains(active))
				active.focus({ preventScroll: true });
			behind = incomplete;
			if (behind && !scheduled) {
				scheduled = true;
				nextFrame(flush);
			}
		}
		if (!behind) container.dataset.seq = String(win.seq);
		showTotal();
		showPager();
		if (onChange) onChange(win);
	}

	/* refresh renders every row again (names of referenced records changed). */
	function refresh() {
		for (const el of rowEls.values()) el.dataset.stale = '1';
		if (win && win.loaded) render_(true);
	}

	function showTotal() {
		const el = totalEl;
		if (!el || !win || !win.loaded) return;
		const n = win.total;
		const text = `${fmt(n)}${win.totalIsLowerBound ? '+' : ''} ${n === 1 && !win.totalIsLowerBound ? noun[0] : noun[1]}`;
		if (el.textContent !== text) el.textContent = text;
		el.dataset.total = String(n);
		el.dataset.totalIsLowerBound = String(win.totalIsLowerBound);
		if (ui.news) {
			ui.news.hidden = news === 0;
			ui.newsText.textContent = `${fmt(news)} new / changed`;
		}
	}

	function showPager() {
		if (!ui.prev) return;
		ui.prev.disabled = !win.hasPrev && !state.after && !state.before;
		ui.next.disabled = !win.hasNext;
		const from = state.after || state.before ? 'Later page' : 'First page';
		ui.where.textContent = win.items.length ? `${from} · ${win.items.length} shown` : from;
	}

	/* go opens another view (a user's choice) as a new history entry. */
	function go(st, { replace = false } = {}) {
		if (url) {
			const u = stateUrl(st, spec, defaults);
			if (replace) history.replaceState(null, '', u);
			else history.pushState(null, '', u);
		}
		return open(st);
	}

	/* page moves to the next or previous page; when the rows at that end
	 * changed since the answer, the window is read again for a fresh
	 * cursor first. */
	async function page(which) {
		let c = win.cursor(which);
		if (!c && (which === 'next' ? win.hasNext : win.hasPrev || state.after || state.before)) {
			try {
				const answer = await fetchWindow(win, ctl.signal);
				const w = makeWindow(state);
				w.load(answer);
				c = w.cursor(which);
				if (!c && which === 'prev' && !answer.prev) {
					go({ ...state, after: null, before: null });
					return;
				}
			} catch (e) {
				announce(`Could not load the page: ${e.message}`, 'error');
				return;
			}
		}
		if (!c) {
			if (which === 'prev') go({ ...state, after: null, before: null });
			return;
		}
		go({ ...state, after: which === 'next' ? c : null, before: which === 'prev' ? c : null });
	}

	/* ---- controls ---- */

	let debounce = null;
	function buildTools() {
		if (!tools) return;
		const id = (s) => `${collection}-${s}`;
		ui.q = h('input', { type: 'search', id: id('q'), placeholder: labels.search || 'Name or description', autocomplete: 'off', 'aria-describedby': id('q-hint'), value: state.q, dataset: { key: 'q' } });
		ui.qHint = h('span', { id: id('q-hint'), class: 'hint', 'aria-live': 'polite' }, '');
		// One history entry per search: the first change while typing adds
		// it, later ones replace it.
		let typing = false;
		ui.q.addEventListener('focus', () => { typing = false; });
		ui.q.addEventListener('input', () => {
			clearTimeout(debounce);
			debounce = setTimeout(() => {
				const q = ui.q.value.trim();
				if (q && [...q].length < Q_MIN) {
					ui.qHint.textContent = `Type at least ${Q_MIN} characters to search.`;
					return;
				}
				ui.qHint.textContent = '';
				if (q === state.q) return;
				go({ ...state, q, after: null, before: null }, { replace: typing });
				typing = true;
			}, DEBOUNCE_MS);
		});
		const fields = [h('div', { class: 'field' }, h('label', { for: id('q') }, 'Search'), ui.q, ui.qHint)];
		ui.filters = {};
		for (const [k, values] of Object.entries(spec.filters)) {
			if (labels.filters && labels.filters[k] === false) continue;
			const L = (labels.filters && labels.filters[k]) || {};
			const sel = h('select', { id: id(`f-${k}`), dataset: { filter: k } },
				h('option', { value: '' }, L.any || 'Any'),
				values.map((v) => h('option', { value: v }, (L.values && L.values[v]) || v)));
			sel.addEventListener('change', () => {
				const filters = { ...state.filters };
				if (sel.value) filters[k] = sel.value;
				else delete filters[k];
				go({ ...state, filters, after: null, before: null });
			});
			ui.filters[k] = sel;
			fields.push(h('div', { class: 'field' }, h('label', { for: id(`f-${k}`) }, L.label || k), sel));
		}
		ui.sort = h('select', { id: id('sort'), dataset: { key: 'sort' } },
			spec.sort.flatMap((f) => {
				const name = (labels.sort && labels.sort[f]) || f;
				return [h('option', { value: f }, `${name} ↑`), h('option', { value: `-${f}` }, `${name} ↓`)];
			}));
		ui.sort.addEventListener('change', () => go({ ...state, sort: ui.sort.value, after: null, before: null }));
		fields.push(h('div', { class: 'field' }, h('label', { for: id('sort') }, 'Sort by'), ui.sort));
		ui.limit = h('select', { id: id('limit') }, PAGE_SIZES.map((n) => h('option', { value: n }, String(n))));
		ui.limit.addEventListener('change', () => go({ ...state, limit: Number(ui.limit.value), after: null, before: null }));
		fields.push(h('div', { class: 'field' }, h('label', { for: id('limit') }, 'Per page'), ui.limit));
		ui.newsText = h('span', {}, '');
		ui.news = h('p', { class: 'news', hidden: true, role: 'status', dataset: { role: 'news' } }, ui.newsText, ' ',
			h('button', { type: 'button', class: 'btn btn-small', dataset: { key: 'show-news' }, onclick: () => go({ ...state, after: null, before: null }) }, 'Show'));
		tools.replaceChildren(h('div', { class: 'toolbar list-tools' }, fields), ui.news);
		tools.hidden = false;
	}

	function buildHeaders() {
		if (!headers) return;
		for (const th of headers.querySelectorAll('th[data-sort]')) {
			const f = th.dataset.sort;
			const text = th.textContent;
			const btn = h('button', { type: 'button', class: 'sort-btn', dataset: { key: `sort-${f}` } }, text, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, ''));
			btn.addEventListener('click', () => {
				const cur = parseSort(state.sort, spec);
				const sort = cur && cur.field === f && !cur.desc ? `-${f}` : f;
				go({ ...state, sort, after: null, before: null });
			});
			th.replaceChildren(btn);
		}
	}

	function buildPager() {
		if (!pager) return;
		ui.prev = h('button', { type: 'button', class: 'btn btn-small', dataset: { key: 'prev' }, onclick: () => page('prev') }, '← Previous');
		ui.next = h('button', { type: 'button', class: 'btn btn-small', dataset: { key: 'next' }, onclick: () => page('next') }, 'Next →');
		ui.where = h('span', { class: 'muted' }, '');
		pager.replaceChildren(h('nav', { class: 'pager actions', 'aria-label': 'Pages' }, ui.prev, ui.where, ui.next));
		pager.hidden = false;
	}

	/* showControls sets the controls to the state (after back/forward too). */
	function showControls() {
		if (ui.q && document.activeElement !== ui.q) ui.q.value = state.q;
		if (ui.q && ui.qHint && !ui.q.value) ui.qHint.textContent = '';
		for (const [k, sel] of Object.entries(ui.filters || {})) sel.value = state.filters[k] || '';
		if (ui.sort) ui.sort.value = state.sort;
		if (ui.limit) {
			if (![...ui.limit.options].some((o) => o.value === String(state.limit)))
				ui.limit.append(h('option', { value: state.limit }, String(state.limit)));
			ui.limit.value = String(state.limit);
		}
		if (headers) {
			const cur = parseSort(state.sort, spec);
			for (const th of headers.querySelectorAll('th[data-sort]')) {
				const on = cur && cur.field === th.dataset.sort;
				if (on) th.setAttribute('aria-sort', cur.desc ? 'descending' : 'ascending');
				else th.removeAttribute('aria-sort');
				const mark = th.querySelector('.sort-mark');
				if (mark) mark.textContent = on ? (cur.desc ? ' ↓' : ' ↑') : '';
			}
		}
		if (opts.onState) opts.onState(state);
	}

	buildTools();
	buildHeaders();
	buildPager();
	if (url) {
		window.addEventListener('popstate', () => {
			open(readState(location.search, spec, defaults));
		});
	}

	const view = {
		collection,
		stats,
		get win() { return win; },
		get state() { return state; },
		get seq() { return win ? win.seq : 0; },
		get byId() { return win ? win.byId : new Map(); },
		load: () => open(state, { initial: true }),
		reload: () => open(state, { initial: true }),
		go: (patch) => go({ ...state, after: null, before: null, ...patch }),
		onEvent,
		refresh,
		get: (id) => (win ? win.get(id) : undefined),
		on(fn) {
			listeners.add(fn);
			return () => listeners.delete(fn);
		},
		/* upsert / remove: the answer of our own write, before its event. */
		upsert(rec) {
			if (!win) return;
			const r = win.upsert(rec);
			emit('updated', rec);
			if (r.fill) fill();
			render_(r.changed || r.fill);
		},
		remove(id, version) {
			if (!win) return;
			const r = win.remove(id, version);
			emit('deleted', { id, version });
			if (r.fill) fill();
			render_(r.changed || r.fill);
		},
	};
	return view;
}

export { $ };
