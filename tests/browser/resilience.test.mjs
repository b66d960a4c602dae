// resilience.test.mjs - resets (a database recreated under open pages, events pruned while a page was away) reload each list once; expired tokens are renewed and the page gets back to WebSocket.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/stack.mjs';
import { launch, open, sel, waitLive } from './lib/browser.mjs';
import { SPECS } from './lib/specs.mjs';

const SOON = 1000;
const TOKEN_TTL = 5;
let stack;
let browser;

before(async () => {
	stack = await startStack();
	browser = await launch();
});
after(async () => {
	await browser?.close();
	await stack?.stop();
});

const url = (st, p) => `${st.url}/${p}`;

async function create(coll, st = stack) {
	const r = await st.curl('POST', `/api/${coll}`, SPECS[coll].body());
	assert.equal(r.status, 201, JSON.stringify(r.body));
	return r.body;
}

async function serverIds(coll, st = stack) {
	const r = await st.curl('GET', `/api/${coll}?limit=1000`);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	return r.body.items.map((x) => x.id).sort();
}

/* listGets names the collections whose lists the page fetched since
 * track.api[from] (the dashboard's aggregates count as one), sorted. */
function listGets(track, from) {
	return track.api.slice(from)
		.map((r) => /^GET \/api\/([a-z-]+)(\?|$)/.exec(r))
		.filter((m) => m && !['token', 'changes'].includes(m[1]))
		.map((m) => m[1]).sort();
}

/*
 * showsServer waits until the page holds exactly the server's records of
 * each of its collections (the rows of #list for the first one, the
 * page's collection for the others) and is live on transport, then checks
 * that no row is shown twice.
 */
async function showsServer(page, colls, transport, timeout, st = stack) {
	const want = {};
	for (const c of colls) want[c] = await serverIds(c, st);
	try {
		await page.waitForFunction(([w, main, tr]) => {
			const conn = document.getElementById('conn');
			if (conn.dataset.state !== 'live' || conn.dataset.transport !== tr) return false;
			const rows = [...document.querySelectorAll('#list > [data-id]')].map((r) => r.dataset.id).sort();
			if (JSON.stringify(rows) !== JSON.stringify(w[main])) return false;
			const colls = window.flowpush && window.flowpush.colls;
			return Object.entries(w).every(([c, ids]) =>
				colls[c] && JSON.stringify([...colls[c].byId.keys()].sort()) === JSON.stringify(ids));
		}, [want, colls[0], transport], { timeout, polling: 100 });
	} catch (e) {
		// Say what the page held instead, and what the server holds now.
		const seen = await page.evaluate(() => {
			const conn = document.getElementById('conn');
			const colls = window.flowpush && window.flowpush.colls;
			return {
				conn: { ...conn.dataset, text: conn.textContent.trim() },
				rows: [...document.querySelectorAll('#list > [data-id]')].map((r) => r.dataset.id).sort(),
				colls: Object.fromEntries(Object.entries(colls || {}).map(([c, v]) => [c, [...v.byId.keys()].sort()])),
				topicSeq: window.flowpush && window.flowpush.topicSeq,
			};
		}).catch((x) => ({ evaluateFailed: String(x) }));
		const now = {};
		for (const c of colls) now[c] = await serverIds(c, st).catch((x) => String(x));
		e.message += `\nwanted (${transport}): ${JSON.stringify(want)}\nthe server now: ${JSON.stringify(now)}` +
			`\nthe page: ${JSON.stringify(seen)}`;
		throw e;
	}
	const shown = await page.$$eval('#list > [data-id]', (rows) => rows.map((r) => r.dataset.id));
	assert.equal(new Set(shown).size, shown.length, 'no row is shown twice');
	return want;
}

/* A proxy that refuses the upgrade: the socket errors and closes unopened. */
function blockWebSocket() {
	window.WebSocket = class {
		constructor() {
			setTimeout(() => {
				if (this.onerror) this.onerror(new Event('error'));
				if (this.onclose) this.onclose({ code: 1006, reason: '', wasClean: false });
			}, 10);
		}
		close() {}
		send() {}
	};
}

/* until polls cond (sync or async) every 50 ms until it holds or ms pass. */
async function until(cond, ms, what) {
	const deadline = Date.now() + ms;
	while (!(await cond())) {
		if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

test('database recreated under open pages: each page reloads each of its lists once and shows exactly the new records', async () => {
	// The old database gets more journal rows than the new one will
	// have, so the pages resume from a seq beyond the newest: a reset.
	const old = [];
	for (let i = 0; i < 3; i++) old.push(await create('proxies'), await create('proxy-pools'), await create('personas'));
	const own = await open(browser.ctx, url(stack, 'proxy-pools.html?share=0'), { transport: 'websocket' });
	const leader = await open(browser.ctx, url(stack, 'proxies.html'), { transport: 'websocket' });
	const follower = await open(browser.ctx, url(stack, 'personas.html'));
	const pages = [
		{ name: 'proxy-pools.html (own connection)', p: own, lists: ['proxy-pools'] },
		{ name: 'proxies.html (leader tab)', p: leader, lists: ['proxies'] },
		{ name: 'personas.html (follower tab)', p: follower, lists: ['personas'] },
	];
	try {
		assert.equal(await follower.page.getAttribute('#conn', 'data-role'), 'follower');
		const oldSeq = Math.min(...await Promise.all(pages.map(({ p }) =>
			p.page.evaluate(() => Math.min(...Object.values(window.flowpush.topicSeq))))));
		const mark = pages.map(({ p }) => p.track.api.length);

		await stack.stopPush();
		await stack.stopFcgi();
		await stack.recreateDb();
		const fresh = [];
		for (const c of ['proxies', 'proxies', 'proxy-pools', 'personas']) {
			fresh.push(await stack.cli(['create', c], SPECS[c].body()));
		}
		await stack.startFcgi();
		await stack.startPush();
		const newSeq = (await stack.curl('GET', '/api/proxies?limit=1')).body.seq;
		assert.ok(newSeq < oldSeq, `the new journal (${newSeq}) is behind the pages (${oldSeq})`);

		// The old secret is gone with the old config: the pages' tokens
		// are refused and renewed on the way.
		for (const { name, p, lists } of pages) {
			const want = await showsServer(p.page, lists, 'websocket', 30000);
			for (const r of old) assert.ok(!(await p.page.$(sel(r.id))), `${name}: an old record is still shown`);
			assert.ok(want[lists[0]].every((id) => fresh.some((r) => r.id === id)),
				`${name}: the server holds only the new records`);
		}

		// Live again: a change made now shows at once, with no more fetches.
		const rec = await create('proxies');
		await leader.page.waitForSelector(sel(rec.id), { state: 'attached', timeout: SOON });
		const pl = await create('proxy-pools');
		await own.page.waitForSelector(sel(pl.id), { state: 'attached', timeout: SOON });
		const pe = await create('personas');
		await follower.page.waitForSelector(sel(pe.id), { state: 'attached', timeout: SOON });
		pages.forEach(({ name, p: pg, lists }, i) => {
			assert.deepEqual(listGets(pg.track, mark[i]), [...lists].sort(), `${name}: each list fetched once after the reset`);
			// The two tabs with a connection of their own renewed their token.
			if (i < 2) assert.ok(pg.track.api.slice(mark[i]).some((r) => r.startsWith('GET /api/token')),
				`${name}: no token of the new secret was fetched`);
		});
		assert.deepEqual(pages.flatMap(({ p: pg }) => pg.track.errors), []);
	} finally {
		for (const { p } of pages) await p.page.close();
		// Whatever a failure left stopped runs again (a running one is refused).
		await stack.startFcgi().catch(() => {});
		await stack.startPush().catch(() => {});
	}
});

test('events pruned while a long-poll was on its way: the page gets a reset, reloads its list once and shows exactly the server\'s records', async () => {
	const first = [await create('keyword-sets'), await create('keyword-sets')];
	let holding = false;
	const held = [];
	const { page, track } = await open(browser.ctx, url(stack, 'keyword-sets.html?share=0'), {
		transport: 'websocket',
		setup: (pg) => pg.route(/\/api\/changes\?/, (route) => {
			if (holding) held.push(route);
			else route.continue().catch(() => {});
		}),
	});
	let pushDown = false;
	try {
		await stack.stopPush();
		pushDown = true;
		await waitLive(page, 'longpoll', 15000);
		// Hold the page's next long-poll in transit.
		holding = true;
		const w0 = await create('keyword-sets');
		await page.waitForSelector(sel(w0.id), { state: 'attached', timeout: 2000 });
		await until(() => held.length > 0, 5000, 'the next long-poll was sent');
		const mark = track.api.length;

		const a = await create('keyword-sets');
		await create('keyword-sets');
		await stack.curl('DELETE', `/api/keyword-sets/${first[0].id}`);
		await stack.curl('PATCH', `/api/keyword-sets/${a.id}`, SPECS['keyword-sets'].patch());
		await stack.cli(['prune', '--keep-days', '0', '--keep-rows', '1']);
		await create('keyword-sets');
		holding = false;
		for (const r of held.splice(0)) await r.continue().catch(() => {});

		await showsServer(page, ['keyword-sets'], 'longpoll', 10000);
		assert.ok(!(await page.$(sel(first[0].id))), 'a deleted row is still shown');
		assert.deepEqual(listGets(track, mark), ['keyword-sets'], 'the list was fetched once after the reset');

		// Back to the daemon: nothing is fetched again, changes show at once.
		const sockets = track.sockets.length;
		await stack.startPush();
		pushDown = false;
		await until(() => track.sockets.length > sockets, 20000, 'a new WebSocket');
		await waitLive(page, 'websocket', 5000);
		const later = await create('keyword-sets');
		await page.waitForSelector(sel(later.id), { state: 'attached', timeout: SOON });
		await showsServer(page, ['keyword-sets'], 'websocket', SOON);
		assert.deepEqual(listGets(track, mark), ['keyword-sets'], 'no list fetched again after the return to WebSocket');
		assert.deepEqual(track.errors, []);
	} finally {
		holding = false;
		for (const r of held.splice(0)) await r.continue().catch(() => {});
		await page.close();
		if (pushDown) await stack.startPush();
	}
});

test('events pruned while pages were disconnected: the daemon\'s reset (WebSocket and SSE) makes each page reload each list once', async () => {
	// No long-poll either: with the daemon gone these pages have nothing.
	const noChanges = (pg) => pg.route(/\/api\/changes\?/, (route) => route.abort('internetdisconnected'));
	const camp = await create('campaigns');
	const pers = await create('personas');
	const ws = await open(browser.ctx, url(stack, 'campaigns.html?share=0'), { transport: 'websocket', setup: noChanges });
	const sse = await open(browser.ctx, url(stack, 'personas.html?share=0'), { transport: 'sse', setup: noChanges, init: blockWebSocket });
	const pages = [
		{ name: 'campaigns.html (WebSocket)', p: ws, lists: ['campaigns'], transport: 'websocket' },
		{ name: 'personas.html (SSE)', p: sse, lists: ['personas'], transport: 'sse' },
	];
	let pushDown = false;
	try {
		await stack.stopPush();
		pushDown = true;
		for (const { p } of pages) await p.page.waitForSelector('#conn:not([data-state="live"])', { state: 'attached', timeout: 5000 });
		const mark = pages.map(({ p }) => p.track.api.length);

		const c2 = await create('campaigns');
		await create('personas');
		await stack.curl('DELETE', `/api/personas/${pers.id}`);
		await stack.curl('PATCH', `/api/campaigns/${camp.id}`, SPECS.campaigns.patch());
		await stack.cli(['prune', '--keep-days', '0', '--keep-rows', '1']);
		await create('personas');
		await stack.curl('POST', `/api/campaigns/${c2.id}/start`);
		await stack.startPush();
		pushDown = false;

		for (const [i, { name, p, lists, transport }] of pages.entries()) {
			await showsServer(p.page, lists, transport, 20000);
			assert.deepEqual(listGets(p.track, mark[i]), [...lists].sort(), `${name}: each list fetched once after the reset`);
		}
		assert.ok(!(await sse.page.$(sel(pers.id))), 'a persona deleted while away is still shown');
		assert.ok(await ws.page.$(`${sel(c2.id)}[data-status="queued"]`), 'a campaign started while away is not shown queued');

		const c3 = await create('campaigns');
		const p3 = await create('personas');
		await ws.page.waitForSelector(sel(c3.id), { state: 'attached', timeout: SOON });
		await sse.page.waitForSelector(sel(p3.id), { state: 'attached', timeout: SOON });
		pages.forEach(({ name, p, lists }, i) => {
			assert.deepEqual(listGets(p.track, mark[i]), [...lists].sort(), `${name}: no list fetched again`);
		});
		assert.deepEqual(pages.flatMap(({ p }) => p.track.errors), []);
	} finally {
		for (const { p } of pages) await p.page.close();
		if (pushDown) await stack.startPush();
	}
});

/*
 * tokenLog records every /api/token answer a page gets: {token, expires,
 * at}. With skewS the page is told its tokens expire skewS seconds later
 * than the server says, as a page whose clock runs behind the server's
 * would believe: it then offers tokens the daemon finds expired.
 */
function tokenLog(log, skewS = 0) {
	return (pg) => pg.route(/\/api\/token\?/, async (route) => {
		const res = await route.fetch();
		const body = await res.json();
		log.push({ token: body.token, expires: body.expires, at: Date.now() });
		await route.fulfill({ response: res, json: { ...body, expires: body.expires + skewS } });
	});
}

const tokenOf = (ws) => new URL(ws.url()).searchParams.get('token');

async function expire(tok) {
	await until(() => Date.now() / 1000 > tok.expires + 0.5, (TOKEN_TTL + 5) * 1000, 'the token expired');
}

test(`token_ttl ${TOKEN_TTL} s: after its token expired the page reconnects with a new token to WebSocket, and 401s from the daemon do not keep it on long-poll`, async () => {
	const short = await startStack({ env: { FLOWPUSH_TOKEN_TTL: String(TOKEN_TTL) } });
	const honest = [];
	const behind = [];
	let a;
	let b;
	try {
		a = await open(browser.ctx, url(short, 'proxies.html?share=0'), { transport: 'websocket', setup: tokenLog(honest) });
		b = await open(browser.ctx, url(short, 'proxy-pools.html?share=0'), { transport: 'websocket', setup: tokenLog(behind, 3600) });
		const refused = [];
		b.page.on('response', (r) => {
			if (/\/push\//.test(r.url()) && r.status() === 401) refused.push(Date.now());
		});
		assert.equal(honest.length, 1);
		assert.ok(honest[0].expires - Date.now() / 1000 <= TOKEN_TTL + 1, 'the token lives token_ttl seconds');
		await expire(honest[0]);
		await expire(behind[0]);

		// A token is checked when a connection opens: open sockets stay live.
		const r1 = await create('proxies', short);
		await a.page.waitForSelector(sel(r1.id), { state: 'attached', timeout: SOON });

		// Restart the daemon: page a renews its expired token itself.
		await short.stopPush();
		await waitLive(b.page, 'longpoll', 15000);
		await short.startPush();
		await until(() => a.track.sockets.length >= 2, 20000, 'page a opened a new WebSocket');
		await waitLive(a.page, 'websocket', 5000);
		assert.ok(honest.length >= 2, 'page a fetched a new token');
		const used = tokenOf(a.track.sockets.at(-1));
		assert.notEqual(used, honest[0].token, 'page a reconnected with its expired token');
		assert.ok(honest.some((t) => t.token === used && t.expires > Date.now() / 1000), 'page a uses a fresh token');
		const r2 = await create('proxies', short);
		await a.page.waitForSelector(sel(r2.id), { state: 'attached', timeout: SOON });

		// Page b believes its expired token still good: the daemon answers
		// 401, and the page must renew it instead of staying on long-poll.
		await until(() => refused.length > 0, 15000, 'the daemon refused page b\'s expired token');
		await until(() => b.track.sockets.some((s) => tokenOf(s) !== behind[0].token), 10000,
			'page b opened a WebSocket with a new token');
		await waitLive(b.page, 'websocket', 5000);
		assert.ok(behind.some((t) => t.at > refused[0]), 'page b fetched a token after the 401');
		await create('proxies', short);
		const pool = await create('proxy-pools', short);
		await b.page.waitForSelector(sel(pool.id), { state: 'attached', timeout: SOON });
		assert.deepEqual(listGets(a.track, 0), ['proxies'], 'page a never fetched its list again');
		assert.deepEqual(listGets(b.track, 0), ['proxy-pools'], 'page b never fetched its list again');
		assert.deepEqual([...a.track.errors, ...b.track.errors], []);
	} finally {
		await a?.page.close();
		await b?.page.close();
		await short.stop();
	}
});
