// live.js - the live connection: WebSocket, then SSE, then long-poll; shared by the tabs of one origin.

import { createSseParser } from './sse.js';

/*
 * The limits below are documented in docs/PAGES.md; change both together.
 * Reconnect delays use "equal jitter": half the step plus a random half,
 * so a thousand pages dropped by one daemon restart do not come back in
 * the same millisecond.
 */
export const LIMITS = Object.freeze({
	reconnectBaseMs: 500,          // first retry after a drop: 0.25-0.5 s
	reconnectMaxMs: 30000,         // backoff cap: 15-30 s
	giveUpAfterMs: 60 * 60 * 1000, // stop after 1 hour with no transport at all
	openTimeoutMs: 8000,           // a WebSocket or SSE open that takes longer failed
	sseIdleMs: 65000,              // no byte (not even a heartbeat) for this long: reconnect
	longPollWaitS: 25,             // /api/changes?wait=
	longPollTimeoutMs: 40000,      // a long-poll answer later than this: retry
	upgradeFirstMs: 5000,          // while on long-poll, try the daemon again after 5 s,
	upgradeMaxMs: 300000,          // doubling up to 5 min
	tokenMarginS: 60,              // renew a token this long before it expires
	shareBuffer: 5000,             // events a leader tab keeps for tabs that join
});

const jittered = (ms) => ms / 2 + Math.random() * (ms / 2);

function sleep(ms, wake) {
	return new Promise((resolve) => {
		const t = setTimeout(done, ms);
		function done() {
			clearTimeout(t);
			// Leave the wake list: it would grow with every reconnect.
			const i = wake ? wake.indexOf(done) : -1;
			if (i >= 0) wake.splice(i, 1);
			resolve();
		}
		if (wake) wake.push(done);
	});
}

/* dropConn closes a connection that was opened but is not wanted. */
function dropConn(c) {
	if (c.ws) {
		c.ws.onclose = null;
		c.ws.onmessage = null;
		try { c.ws.close(1000); } catch { /* gone */ }
	} else {
		c.ctl.abort();
	}
}

function pushUrl(path, params) {
	const qs = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) qs.set(k, v);
	return `${path}?${qs}`;
}

/*
 * PushStream is one physical connection for a set of topics. It delivers
 * every event with a seq above the last one it delivered, exactly once and
 * in order, whichever transport carries it, and resumes from that seq after
 * any drop. Callbacks: onEvent(ev), onReset(seq), onState({state,
 * transport, detail}) where state is connecting|live|offline|gave-up and
 * transport websocket|sse|longpoll|offline.
 */
export class PushStream {
	constructor({ topics, since, onEvent, onReset, onState }) {
		this.topics = topics.includes('*') ? '*' : topics.join(',');
		this.seq = Number(since) || 0;
		this.onEvent = onEvent;
		this.onReset = onReset;
		this.onStateCb = onState;
		this.stopped = true;
		this.tok = null;          // {token, expires}
		this.noSecret = false;    // /api/token said 404
		this.forceToken = false;
		this.wake = [];           // sleepers to wake on retry()/online
		this.closers = new Set(); // functions that end the live connection
		this.state = { state: 'connecting', transport: 'offline', detail: '' };
		// 'online': a socket may have died silently while the network was
		// away. End the connection and resume from the last seq at once.
		this.onOnline = () => {
			this.kicked = true;
			for (const c of [...this.closers]) c();
			this.retry();
		};
		this.kicked = false;      // the connection was ended by onOnline
		this.skipWsUntil = 0;     // set after WebSockets that open and drop at once
		this.wsQuickDrops = 0;
		this.rx = 0;              // messages received, to tell a live socket from a dud
	}

	start() {
		if (!this.stopped) return;
		this.stopped = false;
		window.addEventListener('online', this.onOnline);
		this.run().catch((e) => {
			this.setState('offline', 'offline', `Live updates failed: ${e && e.message}`);
		});
	}

	stop() {
		this.stopped = true;
		window.removeEventListener('online', this.onOnline);
		for (const c of [...this.closers]) c();
		this.closers.clear();
		this.retry();
		this.setState('offline', 'offline', 'Live updates stopped');
	}

	wakeAll() {
		const w = this.wake;
		this.wake = [];
		for (const f of w) f();
	}

	/* retry wakes a waiting reconnect now (the Retry button, 'online'). */
	retry() {
		this.wakeAll();
		if (this.state.state === 'gave-up' && !this.stopped) {
			this.run().catch(() => {});
		}
	}

	setState(state, transport, detail = '') {
		this.state = { state, transport, detail };
		this.onStateCb(this.state);
	}

	deliver(ev) {
		if (!ev || typeof ev.seq !== 'number' || ev.seq <= this.seq) return;
		this.seq = ev.seq;
		this.onEvent(ev);
	}

	reset(seq) {
		this.seq = Number(seq) || 0;
		this.onReset(this.seq);
	}

	/* handle takes one decoded message of either daemon transport. */
	handle(msg) {
		if (!msg || typeof msg !== 'object') return;
		if (msg.action === 'reset' && !msg.topic) this.reset(msg.seq);
		else if (typeof msg.seq === 'number' && msg.topic) this.deliver(msg);
	}

	async token() {
		const now = Date.now() / 1000;
		if (!this.forceToken) {
			if (this.noSecret) return null;
			if (this.tok && this.tok.expires - now > LIMITS.tokenMarginS) return this.tok.token;
		}
		this.forceToken = false;
		try {
			const r = await fetch(pushUrl('/api/token', { topics: this.topics }), {
				cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' },
			});
			if (r.status === 404) {
				this.noSecret = true;
				this.tok = null;
				return null;
			}
			if (!r.ok) return this.tok ? this.tok.token : null;
			this.tok = await r.json();
			this.noSecret = false;
			return this.tok.token;
		} catch {
			return this.tok ? this.tok.token : null;
		}
	}

	openWs(token) {
		const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
		const url = `${proto}//${location.host}` +
			pushUrl('/push/ws', { topics: this.topics, since: this.seq, token });
		return new Promise((resolve, reject) => {
			let ws;
			try {
				ws = new WebSocket(url);
			} catch (e) {
				reject(e);
				return;
			}
			const timer = setTimeout(() => {
				ws.onclose = null;
				try { ws.close(); } catch { /* already closing */ }
				reject(new Error('WebSocket open timed out'));
			}, LIMITS.openTimeoutMs);
			ws.onclose = (e) => {
				clearTimeout(timer);
				reject(Object.assign(new Error('WebSocket refused'), { code: e.code }));
			};
			ws.onopen = () => {
				clearTimeout(timer);
				// Until runWs takes over: a close now must not be missed.
				ws.onclose = () => { ws.closedEarly = true; };
				// Listen at once: an upgrade found while long-polling is
				// adopted a moment later and must not drop what arrives now.
				ws.onmessage = (m) => {
					this.rx++;
					let j;
					try { j = JSON.parse(m.data); } catch { return; }
					this.handle(j);
				};
				resolve(ws);
			};
		});
	}

	async openSse(token) {
		const ctl = new AbortController();
		const timer = setTimeout(() => ctl.abort(), LIMITS.openTimeoutMs);
		let res;
		try {
			res = await fetch(pushUrl('/push/events', { topics: this.topics, since: this.seq, token }), {
				cache: 'no-store', credentials: 'same-origin', signal: ctl.signal,
				headers: { Accept: 'text/event-stream' },
			});
		} finally {
			clearTimeout(timer);
		}
		const type = res.headers.get('content-type') || '';
		if (!res.ok || !type.startsWith('text/event-stream')) {
			ctl.abort();
			throw Object.assign(new Error(`SSE answered ${res.status}`), { status: res.status });
		}
		return { res, ctl };
	}

	/* openPush tries WebSocket, then SSE. Returns a connection or null;
	 * sets authFailed when the daemon refused the token. */
	async openPush(token) {
		this.authFailed = false;
		if (typeof WebSocket === 'function' && Date.now() >= this.skipWsUntil) {
			try {
				return { kind: 'websocket', ws: await this.openWs(token) };
			} catch { /* blocked, refused or no daemon: try SSE */ }
		}
		try {
			return { kind: 'sse', ...(await this.openSse(token)) };
		} catch (e) {
			if (e.status === 401 || e.status === 403) this.authFailed = true;
		}
		return null;
	}

	runWs(ws) {
		return new Promise((resolve) => {
			// Closed between its open and now (an upgrade found while
			// long-polling waits for the poll loop): reconnect at once.
			if (ws.closedEarly || ws.readyState >= 2) {
				ws.onclose = null;
				resolve();
				return;
			}
			// Closing on purpose does not wait for the closing handshake:
			// a socket that died silently may never finish it.
			const close = () => {
				this.closers.delete(close);
				ws.onclose = null;
				try { ws.close(1000); } catch { /* gone */ }
				resolve();
			};
			this.closers.add(close);
			ws.onclose = (e) => {
				this.closers.delete(close);
				// 1008 policy violation / 4401: the grant expired or was refused.
				if (e.code === 1008 || e.code === 4401 || e.code === 4403) this.forceToken = true;
				resolve();
			};
			ws.onerror = () => {};
		});
	}

	async runSse({ res, ctl }) {
		const close = () => ctl.abort();
		this.closers.add(close);
		let idle = null;
		const arm = () => {
			clearTimeout(idle);
			idle = setTimeout(() => ctl.abort(), LIMITS.sseIdleMs);
		};
		const parse = createSseParser((m) => {
			if (m.comment !== undefined) return;
			let j = null;
			try { j = m.data ? JSON.parse(m.data) : null; } catch { return; }
			if (m.event === 'reset') this.reset(j && j.seq);
			else if (m.event === 'message') this.handle(j);
		});
		try {
			arm();
			const reader = res.body.getReader();
			const dec = new TextDecoder();
			for (;;) {
				const { value, done } = await reader.read();
				if (done) break;
				arm();
				parse(dec.decode(value, { stream: true }));
			}
		} catch { /* aborted or the stream broke: reconnect */ } finally {
			clearTimeout(idle);
			this.closers.delete(close);
		}
	}

	async runConn(conn) {
		this.setState('live', conn.kind);
		if (conn.kind === 'websocket') await this.runWs(conn.ws);
		else await this.runSse(conn);
	}

	/* longPollOnce asks /api/changes once; the first call of a run does
	 * not wait, so the page knows at once that this transport works. */
	async longPollOnce(signal, wait) {
		const r = await fetch(pushUrl('/api/changes', {
			since: this.seq, topics: this.topics === '*' ? null : this.topics,
			wait, limit: 1000,
		}), { cache: 'no-store', credentials: 'same-origin', signal, headers: { Accept: 'application/json' } });
		if (!r.ok) throw Object.assign(new Error(`changes answered ${r.status}`), { status: r.status });
		const j = await r.json();
		if (j.reset) {
			this.reset(j.seq);
			return;
		}
		for (const ev of j.events || []) this.deliver(ev);
		if (typeof j.seq === 'number' && j.seq > this.seq) this.seq = j.seq;
	}

	/*
	 * runLongPoll long-polls /api/changes until it fails or a probe finds
	 * the daemon again. Returns {upgrade: conn} or {worked: bool}.
	 */
	async runLongPoll() {
		let upgrade = null;
		let ctl = null;
		let worked = false;
		let probeDelay = LIMITS.upgradeFirstMs;
		let probeTimer = null;
		let over = false;   // this run has returned: a probe still on its way ends
		const ended = () => over || this.stopped || upgrade;
		const probe = async () => {
			if (ended()) return;
			let tok = await this.token();
			if (ended()) return;
			let c = await this.openPush(tok);
			// The daemon refused the token (expired by its clock, or a new
			// secret): without a fresh one every later probe fails too.
			if (!c && this.authFailed && !ended()) {
				this.forceToken = true;
				tok = await this.token();
				if (!ended()) c = await this.openPush(tok);
			}
			if (ended()) {
				if (c) dropConn(c);
				return;
			}
			if (c) {
				upgrade = c;
				if (ctl) ctl.abort();
				// The poll loop may be sleeping after an error.
				this.wakeAll();
				return;
			}
			probeDelay = Math.min(probeDelay * 2, LIMITS.upgradeMaxMs);
			probeTimer = setTimeout(probe, jittered(probeDelay));
		};
		probeTimer = setTimeout(probe, jittered(probeDelay));
		const stop = () => ctl && ctl.abort();
		this.closers.add(stop);
		let fails = 0;
		try {
			while (!this.stopped && !upgrade) {
				ctl = new AbortController();
				const t = setTimeout(() => ctl.abort(), LIMITS.longPollTimeoutMs);
				try {
					await this.longPollOnce(ctl.signal, worked ? LIMITS.longPollWaitS : 0);
					if (!worked) this.setState('live', 'longpoll');
					worked = true;
					fails = 0;
				} catch (e) {
					if (upgrade || this.stopped) break;
					if (!worked || ++fails >= 3) return { worked };
					await sleep(jittered(1000 * fails), this.wake);
				} finally {
					clearTimeout(t);
				}
			}
		} finally {
			over = true;
			clearTimeout(probeTimer);
			this.closers.delete(stop);
		}
		if (upgrade && this.stopped) {
			dropConn(upgrade);
			upgrade = null;
		}
		return { upgrade, worked };
	}

	async run() {
		let failures = 0;   // cycles in a row where nothing worked
		let drops = 0;      // push connections in a row that lived < 30 s
		let downSince = null;
		let conn = null;
		let tokenRetried = false;
		while (!this.stopped) {
			if (!conn) {
				if (this.state.state !== 'live') this.setState('connecting', 'offline', 'Connecting…');
				conn = await this.openPush(await this.token());
				if (conn && this.stopped) dropConn(conn);
				if (!conn && this.authFailed && !tokenRetried) {
					tokenRetried = true;
					this.forceToken = true;
					continue;
				}
			}
			if (this.stopped) break;
			if (conn) {
				failures = 0;
				downSince = null;
				tokenRetried = false;
				const openedAt = Date.now();
				const rx0 = this.rx;
				const c = conn;
				conn = null;
				this.kicked = false;
				await this.runConn(c);
				if (this.stopped) break;
				if (this.kicked) {
					// Ended for 'online': not a drop, reconnect now.
					this.kicked = false;
					this.setState('connecting', 'offline', 'Reconnecting…');
					continue;
				}
				const lived = Date.now() - openedAt;
				drops = lived > 30000 ? 0 : drops + 1;
				// A proxy that accepts the upgrade and then drops it: after
				// two such sockets use SSE for ten minutes.
				if (c.kind === 'websocket' && lived < 5000 && this.rx === rx0) {
					if (++this.wsQuickDrops >= 2) {
						this.skipWsUntil = Date.now() + 10 * 60 * 1000;
						this.wsQuickDrops = 0;
					}
				} else if (c.kind === 'websocket') {
					this.wsQuickDrops = 0;
				}
				this.setState('connecting', 'offline', 'Reconnecting…');
				await sleep(jittered(Math.min(LIMITS.reconnectMaxMs,
					LIMITS.reconnectBaseMs * 2 ** Math.max(0, drops - 1))), this.wake);
				continue;
			}
			// No daemon transport answers: long-poll the API.
			const r = await this.runLongPoll();
			if (r.upgrade) {
				conn = r.upgrade;
				continue;
			}
			if (this.stopped) break;
			if (r.worked) {
				failures = 0;
				downSince = null;
			}
			downSince = downSince || Date.now();
			if (Date.now() - downSince >= LIMITS.giveUpAfterMs) {
				this.setState('gave-up', 'offline',
					'Live updates stopped: no connection for an hour. Reload the page or press Retry.');
				return;
			}
			const delay = jittered(Math.min(LIMITS.reconnectMaxMs, LIMITS.reconnectBaseMs * 2 ** failures));
			failures++;
			this.setState('offline', 'offline',
				`Offline — retrying in ${Math.ceil(delay / 1000)} s`);
			await sleep(delay, this.wake);
		}
	}
}

/*
 * SharedLive gives every tab of the origin one stream through a leader tab:
 * the tab holding the Web Lock "flowpush-live-leader" runs one PushStream
 * on all topics and relays every event over a BroadcastChannel; the others
 * listen. A joining tab says hello with the seq of the lists it loaded and
 * the leader replays what it has after that seq; when the leader goes
 * away, the lock passes to another tab, which asks the others how far they
 * got and resumes from the oldest position, so no tab misses an event.
 */
class SharedLive {
	constructor({ topics, since, onEvent, onReset, onState }) {
		this.id = Math.random().toString(36).slice(2) + Date.now().toString(36);
		this.topics = new Set(topics);
		this.seq = Number(since) || 0;
		this.onEvent = onEvent;
		this.onReset = onReset;
		this.onState = onState;
		this.leader = false;
		this.stream = null;
		this.buffer = [];
		this.bufferFrom = null;
		this.collect = null;     // 'here' answers while taking the lead
		this.queuedHellos = [];
		this.waiting = true;     // until the leader's welcome
		this.pending = [];
		this.ch = new BroadcastChannel('flowpush-live-v1');
		this.ch.onmessage = (e) => this.message(e.data);
		this.onState({ state: 'connecting', transport: 'offline', detail: 'Joining the shared connection…', role: 'follower' });
		this.hello();
		this.lockCtl = new AbortController();
		navigator.locks.request('flowpush-live-leader', { signal: this.lockCtl.signal },
			() => this.lead()).catch(() => {});
	}

	wants(topic) {
		return this.topics.has('*') || this.topics.has(topic);
	}

	deliver(ev) {
		if (!ev || ev.seq <= this.seq) return;
		this.seq = ev.seq;
		if (this.wants(ev.topic)) this.onEvent(ev);
	}

	post(m) {
		this.ch.postMessage(m);
	}

	hello() {
		this.waiting = true;
		this.post({ t: 'hello', from: this.id, since: this.seq });
		clearTimeout(this.helloTimer);
		// A leader that is being replaced may miss it: ask again.
		this.helloTimer = setTimeout(() => { if (this.waiting && !this.leader) this.hello(); }, 3000);
	}

	welcome(to, since) {
		const gap = this.bufferFrom === null || since < this.bufferFrom;
		this.post({
			t: 'welcome', to, gap, state: this.stream && this.stream.state,
			events: gap ? [] : this.buffer.filter((e) => e.seq > since),
		});
	}

	localReset(seq) {
		this.seq = Number(seq) || 0;
		this.pending = [];
		this.waiting = false;
		this.onReset(this.seq);
	}

	message(m) {
		if (!m || typeof m !== 'object') return;
		switch (m.t) {
		case 'hello':
			if (!this.leader) return;
			if (this.collect) {
				this.collect.push(m.since);
				this.queuedHellos.push(m);
			} else {
				this.welcome(m.from, m.since);
			}
			return;
		case 'rollcall':
			if (m.from !== this.id) this.post({ t: 'here', from: this.id, since: this.seq });
			return;
		case 'here':
			if (this.collect) this.collect.push(m.since);
			return;
		case 'welcome':
			if (m.to !== this.id || !this.waiting || this.leader) return;
			this.waiting = false;
			clearTimeout(this.helloTimer);
			if (m.state) this.onState({ ...m.state, role: 'follower' });
			if (m.gap) {
				// The leader cannot replay that far back: reload once.
				this.localReset(this.seq);
				return;
			}
			for (const ev of [...m.events, ...this.pending].sort((a, b) => a.seq - b.seq)) this.deliver(ev);
			this.pending = [];
			return;
		case 'ev':
			if (this.leader) return;
			if (this.waiting) this.pending.push(m.ev);
			else this.deliver(m.ev);
			return;
		case 'reset':
			if (!this.leader) this.localReset(m.seq);
			return;
		case 'state':
			if (!this.leader) this.onState({ ...m.state, role: 'follower' });
			return;
		default:
		}
	}

	async lead() {
		this.leader = true;
		clearTimeout(this.helloTimer);
		this.collect = [];
		this.post({ t: 'rollcall', from: this.id });
		await sleep(150);
		if (this.stopped) return undefined;
		// Events relayed by the previous leader that this tab held back.
		for (const ev of this.pending.sort((a, b) => a.seq - b.seq)) this.deliver(ev);
		this.pending = [];
		this.waiting = false;
		const from = Math.min(this.seq, ...this.collect);
		this.collect = null;
		this.bufferFrom = from;
		this.buffer = [];
		this.stream = new PushStream({
			topics: ['*'], since: from,
			onEvent: (ev) => {
				this.buffer.push(ev);
				if (this.buffer.length > LIMITS.shareBuffer) this.bufferFrom = this.buffer.shift().seq;
				this.post({ t: 'ev', ev });
				this.deliver(ev);
			},
			onReset: (seq) => {
				this.buffer = [];
				this.bufferFrom = seq;
				this.post({ t: 'reset', seq });
				this.localReset(seq);
			},
			onState: (st) => {
				this.post({ t: 'state', state: st });
				this.onState({ ...st, role: 'leader' });
			},
		});
		this.stream.start();
		for (const m of this.queuedHellos) this.welcome(m.from, m.since);
		this.queuedHellos = [];
		// Hold the lock for the life of this tab.
		return new Promise((resolve) => { this.release = resolve; });
	}

	/* rejoin is called after the page reloaded its lists at seq since. */
	rejoin(since) {
		if (this.leader) return;
		this.seq = Number(since) || 0;
		this.pending = [];
		this.hello();
	}

	retry() {
		if (this.stream) this.stream.retry();
		else this.hello();
	}

	stop() {
		this.stopped = true;
		if (this.stream) {
			// The tab that takes the lead tells the others its own state.
			this.stream.onStateCb = () => {};
			this.stream.stop();
		}
		if (this.release) this.release();
		this.lockCtl.abort();
		this.ch.close();
		clearTimeout(this.helloTimer);
		this.onState({ state: 'offline', transport: 'offline', detail: 'Live updates stopped',
			role: this.leader ? 'leader' : 'follower' });
	}
}

/*
 * openLive starts live updates for topics from seq since and returns
 * {retry(), rejoin(seq), stop(), seq} (seq: the last event delivered, to
 * open a new one from after stop()). The tab shares the origin's connection
 * when the browser has Web Locks and BroadcastChannel (secure contexts:
 * https or localhost) and the URL has no ?share=0; otherwise it opens its
 * own. Callbacks as for PushStream, plus state.role leader|follower|own.
 */
export function openLive(opts) {
	const share = new URLSearchParams(location.search).get('share') !== '0' &&
		typeof BroadcastChannel === 'function' && navigator.locks && navigator.locks.request;
	if (share) return new SharedLive(opts);
	const s = new PushStream({ ...opts, onState: (st) => opts.onState({ ...st, role: 'own' }) });
	s.start();
	return {
		retry: () => s.retry(), rejoin: () => {}, stop: () => s.stop(),
		get seq() { return s.seq; },
	};
}
