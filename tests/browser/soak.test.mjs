// soak.test.mjs - all pages open together for 60 s while 100 writes happen: zero API requests after load, one stream for all tabs, every page right at the end.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/stack.mjs';
import { launch, open } from './lib/browser.mjs';
import { SPECS } from './lib/specs.mjs';

const SOAK_MS = Number(process.env.SOAK_MS || 60000);
const WRITES = 100;
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

const LISTS = ['campaigns', 'personas', 'keyword-sets', 'proxies', 'proxy-pools'];
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

test(`all six pages open for ${SOAK_MS / 1000} s with ${WRITES} writes: API requests after load = 0, one WebSocket, every page matches the server`, async () => {
	const pages = {};
	pages.index = await open(browser.ctx, `${stack.url}/index.html`, { transport: 'websocket' });
	for (const c of LISTS) pages[c] = await open(browser.ctx, `${stack.url}/${SPECS[c].page}`);
	const alive = Object.fromEntries(LISTS.map((c) => [c, []]));
	const t0 = Date.now();
	let writes = 0;
	for (let i = 0; i < WRITES; i++) {
		const coll = LISTS[i % LISTS.length];
		const kind = i % 3;   // create, create, then change or delete
		let r;
		if (kind < 2 || alive[coll].length === 0) {
			r = await stack.curl('POST', `/api/${coll}`, SPECS[coll].body());
			assert.equal(r.status, 201, JSON.stringify(r.body));
			alive[coll].push(r.body.id);
		} else if (i % 2) {
			r = await stack.curl('PATCH', `/api/${coll}/${alive[coll][0]}`, SPECS[coll].patch());
			assert.equal(r.status, 200, JSON.stringify(r.body));
		} else {
			r = await stack.curl('DELETE', `/api/${coll}/${alive[coll].shift()}`);
			assert.equal(r.status, 204);
		}
		writes++;
		await sleep(t0 + ((i + 1) * SOAK_MS) / WRITES - Date.now());
	}
	assert.equal(writes, WRITES);
	await sleep(1000);

	for (const c of LISTS) {
		const want = (await stack.curl('GET', `/api/${c}?limit=1000`)).body.items.map((x) => `${x.id}@${x.version}`).sort();
		const shown = await pages[c].page.$$eval('#list > [data-id]', (rows) => rows.map((r) => `${r.dataset.id}@${r.dataset.version}`));
		assert.deepEqual([...shown].sort(), want, `${c}: the page shows what the server stores`);
	}
	const dash = (await stack.curl('GET', '/api/dashboard')).body;
	assert.equal(await pages.index.page.textContent('[data-stat="personas"] [data-value]'), String(dash.personas.total));
	assert.equal(await pages.index.page.textContent('[data-stat="campaigns"] [data-value]'), String(dash.campaigns.total));

	const all = Object.values(pages);
	assert.deepEqual(all.flatMap((p) => p.track.apiAfterLoad), [], 'API requests after load');
	assert.equal(all.reduce((n, p) => n + p.track.sockets.length, 0), 1, 'the tabs share one WebSocket');
	assert.ok(pages.index.track.frames >= WRITES, `the shared socket carried ${pages.index.track.frames} frames`);
	assert.deepEqual(all.flatMap((p) => p.track.errors), []);
	for (const p of all) await p.page.close();
});
