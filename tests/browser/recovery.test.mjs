// recovery.test.mjs - the live connection recovers: after Back/Forward (bfcache), from a WebSocket that closes while long-poll hands over, from a socket that died silently ('online'); no probe outlives long-poll, no sleeper is kept.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/stack.mjs';
import { launch, open, sel, waitLive } from './lib/browser.mjs';
import { SPECS } from './lib/specs.mjs';

const SOON = 1000;
let stack;
let browser;

before(async () => {
	stack = await startStack();
	// The back/forward cache on, as in a user's browser.
	browser = await launch({ bfcache: true });
});
after(async () => {
	await browser?.close();
	await stack?.stop();
});

const url = (p) => `${stack.url}/${p}`;

async function create(coll = 'proxies') {
	const r = await stack.curl('POST', `/api/${coll}`, SPECS[coll].body());
	assert.equal(r.status, 201, JSON.stringify(r.body));
	return r.body;
}

/* until polls cond (sync or async) every 50 ms until it holds or ms pass. */
async function until(cond, ms, what) {
	const deadline = Date.now() + ms;
	while (!(await cond())) {
		if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

/* listGets: the list requests (not token or changes) since track.api[from]. */
const listGets = (track, from) => track.api.slice(from)
	.filter((r) => /^GET \/api\//.test(r) && !/^GET \/api\/(token|changes)\b/.test(r));

const conn = (page) => page.evaluate(() => {
	const el = document.getElementById('conn');
	return `${el.dataset.state}/${el.dataset.transport}`;
});

test('Back/Forward: a page restored from the bfcache opens a new connection from its seq and shows what changed meanwhile', async () => {
	const { page, track } = await open(browser.ctx, url('proxies.html?share=0'), {
		transport: 'websocket',
		init: () => addEventListener('pageshow', (e) => { window.persistedShow = e.persisted; }),
	});
	try {
		await page.goto(url('personas.html?share=0'));
		await waitLive(page, 'websocket');
		const away = await create();
		const sockets = track.sockets.length;
		const mark = track.api.length;
		// No load event comes for a page taken from the bfcache.
		await page.goBack({ waitUntil: 'commit' });
		await page.waitForFunction(() => window.persistedShow === true, null, { timeout: 5000 });
		await page.waitForSelector(sel(away.id), { state: 'attached', timeout: 5000 });
		await waitLive(page, 'websocket', 5000);
		assert.equal(track.sockets.length, sockets + 1, 'one new WebSocket after the return');
		const rec = await create();
		await page.waitForSelector(sel(rec.id), { state: 'attached', timeout: SOON });
		assert.deepEqual(listGets(track, mark), [], 'no list fetched again');
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('pagehide stops the connection and says offline; pageshow (persisted) reconnects, also for a tab that shares the connection', async () => {
	for (const [p, coll, transport] of [['campaigns.html?share=0', 'campaigns', 'websocket'], ['keyword-sets.html', 'keyword-sets', null]]) {
		const { page, track } = await open(browser.ctx, url(p), { transport });
		try {
			await page.evaluate(() => dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })));
			assert.equal(await conn(page), 'offline/offline', `${p}: the badge after stop()`);
			await until(() => track.sockets.every((s) => s.isClosed()), 5000, `${p}: the WebSocket closed`);
			const away = await create(coll);
			await page.evaluate(() => dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })));
			await waitLive(page, 'websocket', 5000);
			await page.waitForSelector(sel(away.id), { state: 'attached', timeout: 5000 });
			const rec = await create(coll);
			await page.waitForSelector(sel(rec.id), { state: 'attached', timeout: SOON });
			assert.deepEqual(track.errors, []);
		} finally {
			await page.close();
		}
	}
});

/* Sockets made while window.fakeWs is set stay connecting until the test
 * opens them (window.pendingWs); the others are real. */
function fakeWebSocket() {
	const Real = window.WebSocket;
	window.fakeWs = false;
	window.pendingWs = [];
	function WebSocket(u, protocols) {
		if (!window.fakeWs) return new Real(u, protocols);
		const ws = { url: u, readyState: 0, send() {}, close() { this.readyState = 3; } };
		window.pendingWs.push(ws);
		return ws;
	}
	Object.assign(WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
	window.WebSocket = WebSocket;
}

test('a WebSocket found by a long-poll probe that closes before it is adopted (the poll loop sleeping after an error) does not hang the page', async () => {
	let failChanges = false;
	let failed = 0;
	const { page, track } = await open(browser.ctx, url('keyword-sets.html?share=0'), {
		transport: 'websocket', init: fakeWebSocket,
		setup: (pg) => pg.route(/\/api\/changes\?/, (route) => {
			if (!failChanges) return route.continue().catch(() => {});
			failed++;
			return route.abort('internetdisconnected').catch(() => {});
		}),
	});
	let pushDown = false;
	try {
		await stack.stopPush();
		pushDown = true;
		await waitLive(page, 'longpoll', 15000);
		await page.evaluate(() => { window.fakeWs = true; });
		await until(() => page.evaluate(() => window.pendingWs.length > 0), 10000, 'a probe opened a WebSocket');
		// The poll in flight answers; the next one fails: the loop sleeps.
		failChanges = true;
		const rec = await create('keyword-sets');
		await page.waitForSelector(sel(rec.id), { state: 'attached', timeout: 2000 });
		await until(() => failed > 0, 2000, 'a long-poll failed');
		await new Promise((r) => setTimeout(r, 100));
		// The probe's socket opens and is gone before the loop wakes.
		await page.evaluate(() => {
			window.fakeWs = false;
			const ws = window.pendingWs.shift();
			ws.readyState = 1;
			ws.onopen({});
			ws.readyState = 3;
			if (ws.onclose) ws.onclose({ code: 1006, reason: '', wasClean: false });
		});
		failChanges = false;
		await stack.startPush();
		pushDown = false;
		// The page's first socket and this one dropped at once: two such in
		// a row send it to SSE for a while, which is as good.
		await page.waitForSelector('#conn[data-state="live"]:is([data-transport="websocket"], [data-transport="sse"])',
			{ state: 'attached', timeout: 20000 });
		const later = await create('keyword-sets');
		await page.waitForSelector(sel(later.id), { state: 'attached', timeout: SOON });
		assert.deepEqual(track.errors, []);
	} finally {
		failChanges = false;
		await page.close();
		if (pushDown) await stack.startPush();
	}
});

test('back on WebSocket after long-poll, no probe is left: no request and one open WebSocket for 10 s', async () => {
	let holdSse = false;
	let held = null;
	let failChanges = false;
	const { page, track } = await open(browser.ctx, url('proxies.html?share=0'), {
		transport: 'websocket',
		setup: async (pg) => {
			// The first SSE attempt of a probe is held on its way ...
			await pg.route(/\/push\/events\?/, (route) => {
				if (holdSse && !held) held = route;
				else route.continue().catch(() => {});
			});
			// ... while the long-poll that made the probe fails and ends.
			await pg.route(/\/api\/changes\?/, (route) => (failChanges
				? route.abort('internetdisconnected') : route.continue()).catch(() => {}));
		},
	});
	const all = [];
	page.on('request', (r) => all.push(new URL(r.url()).pathname));
	let pushDown = false;
	try {
		await stack.stopPush();
		pushDown = true;
		await waitLive(page, 'longpoll', 15000);
		holdSse = true;
		await until(() => held, 10000, 'a probe tried SSE');
		failChanges = true;
		const rec = await create();
		await page.waitForSelector(sel(rec.id), { state: 'attached', timeout: 2000 });
		await page.waitForSelector('#conn:not([data-state="live"])', { state: 'attached', timeout: 6000 });
		failChanges = false;
		await held.abort('internetdisconnected').catch(() => {});
		await waitLive(page, 'longpoll', 10000);
		await stack.startPush();
		pushDown = false;
		await waitLive(page, 'websocket', 20000);

		const requests = all.length;
		const sockets = track.sockets.length;
		await new Promise((r) => setTimeout(r, 10000));
		assert.deepEqual(all.slice(requests).filter((p) => /^\/(api|push)\//.test(p)), [], 'requests while on WebSocket');
		assert.equal(track.sockets.length, sockets, 'no WebSocket opened while on WebSocket');
		assert.equal(track.sockets.filter((s) => !s.isClosed()).length, 1, 'one WebSocket open');
		assert.equal(await conn(page), 'live/websocket');
		const later = await create();
		await page.waitForSelector(sel(later.id), { state: 'attached', timeout: SOON });
		assert.deepEqual(track.errors, []);
	} finally {
		holdSse = false;
		failChanges = false;
		if (held) await held.continue().catch(() => {});
		await page.close();
		if (pushDown) await stack.startPush();
	}
});

test('\'online\' ends a WebSocket that died silently: the page reconnects and catches up from its seq', async () => {
	const routed = [];
	const { page, track } = await open(browser.ctx, url('proxy-pools.html?share=0'), {
		transport: 'websocket',
		setup: (pg) => pg.routeWebSocket(/\/push\/ws/, (ws) => {
			const me = { dead: false };
			routed.push(me);
			const server = ws.connectToServer();
			server.onMessage((m) => { if (!me.dead) ws.send(m); });
		}),
	});
	try {
		for (const r of routed) r.dead = true;
		const missed = await create('proxy-pools');
		await new Promise((r) => setTimeout(r, 500));
		assert.ok(!(await page.$(sel(missed.id))), 'the dead socket delivered');
		const mark = track.api.length;
		await page.evaluate(() => dispatchEvent(new Event('online')));
		await page.waitForSelector(sel(missed.id), { state: 'attached', timeout: 3000 });
		await waitLive(page, 'websocket', 3000);
		assert.equal(track.sockets.length, 2, 'one new WebSocket');
		const rec = await create('proxy-pools');
		await page.waitForSelector(sel(rec.id), { state: 'attached', timeout: SOON });
		assert.deepEqual(listGets(track, mark), [], 'no list fetched again');
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('reconnects leave no sleeper behind, and stop() says offline', async () => {
	const page = await browser.ctx.newPage();
	// This stream's sockets (topic keyword-sets) open and drop at once.
	await page.routeWebSocket((u) => u.pathname === '/push/ws' && u.searchParams.get('topics') === 'keyword-sets',
		(ws) => { setTimeout(() => ws.close({ code: 1011 }), 50); });
	try {
		await page.goto(url('proxies.html?share=0'));
		await waitLive(page, 'websocket');
		const st = await page.evaluate(async () => {
			const { PushStream } = await import('/js/live.js');
			const s = new PushStream({ topics: ['keyword-sets'], since: 0, onEvent() {}, onReset() {}, onState() {} });
			s.start();
			// Two sockets that drop at once, two reconnect sleeps, then SSE.
			const t0 = Date.now();
			while (!(s.state.state === 'live' && s.state.transport === 'sse') && Date.now() - t0 < 10000) {
				await new Promise((r) => setTimeout(r, 50));
			}
			const live = `${s.state.state}/${s.state.transport}`;
			const sleepers = s.wake.length;
			s.stop();
			return { live, sleepers, stopped: `${s.state.state}/${s.state.transport}` };
		});
		assert.deepEqual(st, { live: 'live/sse', sleepers: 0, stopped: 'offline/offline' });
	} finally {
		await page.close();
	}
});
