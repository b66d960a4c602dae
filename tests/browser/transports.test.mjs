// transports.test.mjs - the automatic choice of transport: WebSocket, SSE when WebSocket is blocked, long-poll without the daemon, and the catch-up after it returns.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/stack.mjs';
import { launch, open, sel, waitLive } from './lib/browser.mjs';
import { SPECS } from './lib/specs.mjs';

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

// share=0: each page here runs its own connection, so what it shows is
// its own transport and not a sibling tab's.
const url = (p) => `${stack.url}/${p}?share=0`;

async function create(coll = 'proxies') {
	const r = await stack.curl('POST', `/api/${coll}`, SPECS[coll].body());
	assert.equal(r.status, 201, JSON.stringify(r.body));
	return r.body;
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

test('WebSocket blocked: the page uses SSE, says so, and stays live with no API request', async () => {
	const { page, track } = await open(browser.ctx, url('proxies.html'), { transport: 'sse', init: blockWebSocket });
	try {
		assert.ok(track.push.includes('/push/events'));
		const rec = await create();
		await page.waitForSelector(sel(rec.id), { state: 'attached', timeout: 1000 });
		await stack.curl('DELETE', `/api/proxies/${rec.id}`);
		await page.waitForSelector(sel(rec.id), { state: 'detached', timeout: 1000 });
		assert.deepEqual(track.apiAfterLoad, []);
		assert.equal(await page.getAttribute('#conn', 'aria-live'), 'polite');
		assert.match(await page.textContent('#conn'), /server-sent events/);
	} finally {
		await page.close();
	}
});

test('a WebSocket that opens and drops at once is given up for SSE', async () => {
	const page = await browser.ctx.newPage();
	await page.routeWebSocket(/\/push\/ws/, (ws) => { setTimeout(() => ws.close({ code: 1011 }), 50); });
	try {
		await page.goto(url('personas.html'));
		await waitLive(page, 'sse', 20000);
		const rec = await create('personas');
		await page.waitForSelector(sel(rec.id), { state: 'attached', timeout: 1000 });
	} finally {
		await page.close();
	}
});

test('the WebSocket carries the token from /api/token', async () => {
	const { page, track } = await open(browser.ctx, url('index.html'), { transport: 'websocket' });
	try {
		assert.equal(track.sockets.length, 1);
		assert.match(track.sockets[0].url(), /[?&]token=[^&]+/);
		assert.ok(track.api.some((r) => r.startsWith('GET /api/token')));
	} finally {
		await page.close();
	}
});

test('push daemon stopped: long-poll takes over; restarted: the page returns to WebSocket with no missing or doubled rows', async () => {
	const { page } = await open(browser.ctx, url('proxies.html'), { transport: 'websocket' });
	const ids = new Set();
	try {
		await stack.stopPush();
		await waitLive(page, 'longpoll', 15000);
		// Writes while only the API runs arrive by long-poll.
		for (let i = 0; i < 5; i++) {
			const rec = await create();
			ids.add(rec.id);
			await page.waitForSelector(sel(rec.id), { state: 'attached', timeout: 2000 });
		}
		const gone = [...ids][0];
		await stack.curl('DELETE', `/api/proxies/${gone}`);
		ids.delete(gone);
		await page.waitForSelector(sel(gone), { state: 'detached', timeout: 2000 });

		await stack.startPush();
		// Writes during the switch back, then after it.
		for (let i = 0; i < 5; i++) ids.add((await create()).id);
		await waitLive(page, 'websocket', 30000);
		for (let i = 0; i < 5; i++) ids.add((await create()).id);

		const want = (await stack.curl('GET', '/api/proxies?limit=1000')).body.items.map((r) => r.id).sort();
		await page.waitForFunction((n) => document.querySelectorAll('#list [data-id]').length === n, want.length, { timeout: 2000 });
		const shown = await page.$$eval('#list [data-id]', (rows) => rows.map((r) => r.dataset.id));
		assert.deepEqual([...shown].sort(), want, 'the rows shown are the rows stored');
		assert.equal(new Set(shown).size, shown.length, 'no row is shown twice');
		for (const id of ids) assert.ok(shown.includes(id));
	} finally {
		await page.close();
	}
});
