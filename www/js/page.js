// page.js - what every page shares: loading its windows once, the live connection, the connection badge.

import { openLive } from './live.js';
import { h, announce } from './dom.js';
import { setRedirects, takeFailure, showPageError } from './forms.js';

const TRANSPORT_NAMES = {
	websocket: 'WebSocket',
	sse: 'server-sent events',
	longpoll: 'long-polling',
	offline: 'offline',
};

/* showConnection renders the state into the #conn element (aria-live). */
function showConnection(st, retry) {
	const el = document.getElementById('conn');
	if (!el) return;
	el.dataset.transport = st.transport;
	el.dataset.state = st.state;
	el.dataset.role = st.role || 'own';
	const text = el.querySelector('.conn-text');
	let msg;
	if (st.state === 'live') {
		msg = `Live · ${TRANSPORT_NAMES[st.transport]}`;
		if (st.role === 'follower') msg += ' (shared with another tab)';
	} else {
		msg = st.detail || (st.state === 'connecting' ? 'Connecting…' : 'Offline');
	}
	// Only speak real changes: screen readers repeat every write.
	if (text.textContent !== msg) text.textContent = msg;
	el.title = st.state === 'live' ? `Receiving changes by ${TRANSPORT_NAMES[st.transport]}` : msg;
	let btn = document.getElementById('conn-retry');
	if (st.state === 'gave-up' || st.state === 'offline') {
		if (!btn) {
			btn = h('button', { id: 'conn-retry', type: 'button', class: 'btn btn-small', onclick: retry }, 'Retry now');
			el.after(btn);
		}
	} else if (btn) {
		btn.remove();
	}
}

/*
 * startPage loads the page's data once and keeps it live.
 *   views: live lists (listview.js liveList) and label sources
 *     (labels.js), each fed the events of its topic (`collection` or
 *     `topic`); a view's load() resolves with the seq of its answer;
 *   loaders: extra {topic: async () => seq} (the dashboard), whose events
 *     go to handlers[topic](ev);
 *   onAnyEvent(ev): every event, after it was routed (the activity list);
 *   extraTopics: more topics whose events only onAnyEvent sees.
 * The subscription starts at the smallest seq of the loaded answers; each
 * view ignores what its own answer already holds. On a reset everything
 * is loaded once more, never because of an ordinary event.
 */
export function startPage({ views = [], loaders = {}, handlers = {}, onAnyEvent = null, extraTopics = [] }) {
	setRedirects();
	// After the page's own code has run (its form editors take what is
	// theirs), a failed form post no form took is shown on the page.
	Promise.resolve().then(() => {
		const f = takeFailure();
		if (f && !f.claimed) showPageError(f);
	});
	const colls = {};
	for (const v of views) if (v.collection && !colls[v.collection]) colls[v.collection] = v;
	const topicSeq = {};
	let live = null;
	let reloading = null;

	async function loadAll() {
		const jobs = views.filter((v) => v.load).map(async (v) => {
			const seq = await v.load();
			topicSeq[v.collection] = seq;
		});
		for (const v of views) if (v.reset && !v.load) v.reset();
		for (const [topic, fn] of Object.entries(loaders)) {
			jobs.push((async () => { topicSeq[topic] = await fn(); })());
		}
		await Promise.all(jobs);
		const seqs = Object.values(topicSeq);
		return seqs.length ? Math.min(...seqs) : 0;
	}

	let held = null;   // events that arrive while a reset reloads the lists

	function route(ev) {
		if (held) {
			held.push(ev);
			return;
		}
		for (const v of views) if ((v.collection || v.topic) === ev.topic) v.onEvent(ev);
		if (handlers[ev.topic] && ev.seq > (topicSeq[ev.topic] || 0)) {
			topicSeq[ev.topic] = ev.seq;
			handlers[ev.topic](ev);
		}
		if (onAnyEvent) onAnyEvent(ev);
	}

	async function reload() {
		if (reloading) return reloading;
		held = [];
		reloading = (async () => {
			for (;;) {
				try {
					const since = await loadAll();
					// What arrived meanwhile is applied now; each view
					// drops what its fresh answer already holds.
					const q = held;
					held = null;
					for (const ev of q) route(ev);
					if (live) live.rejoin(since);
					return;
				} catch {
					await new Promise((r) => setTimeout(r, 2000 + Math.random() * 3000));
				}
			}
		})().finally(() => { reloading = null; });
		return reloading;
	}

	const topics = [...new Set([...views.map((v) => v.collection || v.topic), ...Object.keys(loaders), ...extraTopics])];
	const retry = () => live && live.retry();
	let generation = 0;

	/* connect opens the live connection from seq since; what a replaced
	 * (stopped) one still reports is ignored. */
	function connect(since) {
		const gen = ++generation;
		live = openLive({
			topics, since,
			onEvent: (ev) => { if (gen === generation) route(ev); },
			onReset: () => {
				if (gen !== generation) return;
				announce('The server asked for a fresh copy: reloading the lists once.');
				reload();
			},
			onState: (st) => {
				if (gen !== generation) return;
				showConnection(st, retry);
				if (st.state === 'live') document.documentElement.dataset.ready = 'true';
			},
		});
	}

	const ready = (async () => {
		let since;
		for (let i = 0; ; i++) {
			try {
				since = await loadAll();
				break;
			} catch (e) {
				showConnection({ state: 'offline', transport: 'offline', detail: 'Could not load the data; retrying…' }, () => {});
				await new Promise((r) => setTimeout(r, Math.min(30000, 1000 * 2 ** i)));
			}
		}
		document.documentElement.dataset.loaded = 'true';
		connect(since);
		window.addEventListener('pagehide', () => live.stop());
		// Back from the back/forward cache: the connection was stopped on
		// pagehide; open a new one from the last event applied.
		window.addEventListener('pageshow', (e) => {
			if (e.persisted) connect(live.seq);
		});
		return live;
	})();
	window.flowpush = { colls, views, ready, topicSeq };
	return { colls, ready, reload };
}
