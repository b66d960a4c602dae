// lists.test.mjs - list pages as live windows: search, sort, filters, paging, deep links, history, live changes in plain, filtered, sorted and later windows, bursts, and the page against the API after random writes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/stack.mjs';
import { launch, open, sel } from './lib/browser.mjs';
import { SPECS, uniq } from './lib/specs.mjs';

const SOON = 2000;
const KS = 130;            // keyword sets: three pages of 50
let stack;
let browser;
let ksNames = [];

before(async () => {
	stack = await startStack();
	browser = await launch();
	for (let i = 0; i < KS; i++) {
		const r = await stack.curl('POST', '/api/keyword-sets', { name: `${i % 2 ? 'alpha' : 'Beta'} set ${String(i).padStart(3, '0')} ${process.pid}`, rules: [] });
		assert.equal(r.status, 201, JSON.stringify(r.body));
		ksNames.push(r.body.name);
	}
});
after(async () => {
	await browser?.close();
	await stack?.stop();
});

const url = (p) => `${stack.url}/${p}${p.includes('?') ? '&' : '?'}share=0`;
const get = async (p) => {
	const r = await stack.curl('GET', p);
	assert.equal(r.status, 200, `${p}: ${JSON.stringify(r.body)}`);
	return r.body;
};

/* shown: the rows of the page's window, as id@version, in order. */
const shown = (page) => page.$$eval('#list > [data-id]', (rows) => rows.map((r) => `${r.dataset.id}@${r.dataset.version}`));
const ids = (answer) => answer.items.map((r) => `${r.id}@${r.version}`);

/* apiOf: the API request that the page's URL stands for. */
function apiOf(page, coll, defaults = {}) {
	const u = new URL(page.url());
	const p = new URLSearchParams(u.search);
	p.delete('share');
	for (const [k, v] of Object.entries(defaults)) if (!p.has(k)) p.set(k, v);
	if (!p.has('limit')) p.set('limit', '50');
	for (const [k, v] of [...p]) if (v === '') p.delete(k);
	return `/api/${coll}?${p}`;
}

async function ready(page) {
	await page.waitForSelector('#list[data-window-ready="true"]', { state: 'attached', timeout: 10000 });
}

/* settled waits until the page applied every event of coll up to seq. */
async function settled(page, seq) {
	await page.waitForFunction((s) => {
		const l = document.getElementById('list');
		return l.dataset.windowReady === 'true' && Number(l.dataset.seq) >= s;
	}, seq, { timeout: 10000, polling: 50 });
}

/* lastSeq: the seq of the newest event of coll (what a page must reach). */
async function lastSeq(coll, since = 0) {
	let seq = since;
	for (;;) {
		const r = await get(`/api/changes?since=${seq}&topics=${coll}&limit=1000`);
		if (!r.events.length) return seq;
		seq = r.events[r.events.length - 1].seq;
	}
}

async function sameAsApi(page, coll, what, defaults = {}) {
	await ready(page);
	const want = await get(apiOf(page, coll, defaults));
	await settled(page, await lastSeq(coll, 0));
	const again = await get(apiOf(page, coll, defaults));
	assert.deepEqual(await shown(page), ids(again), `${what}: the page's window differs from the API's (${apiOf(page, coll, defaults)})`);
	const total = await page.getAttribute('#summary', 'data-total');
	assert.equal(Number(total), again.total, `${what}: total`);
	return want;
}

test('search: fewer than 3 characters say so and send nothing; a name finds its row; the URL holds q', async () => {
	const { page, track } = await open(browser.ctx, url('keyword-sets.html'));
	try {
		await ready(page);
		const before = track.api.length;
		await page.fill('#keyword-sets-q', 'al');
		await page.waitForFunction(() => /at least 3/.test(document.getElementById('keyword-sets-q-hint').textContent), null, { timeout: SOON });
		await page.waitForTimeout(400);
		assert.deepEqual(track.api.slice(before).filter((r) => r.includes('q=')), [], 'a search of 2 characters was sent');
		const name = ksNames[17];
		await page.fill('#keyword-sets-q', name);
		await page.waitForFunction((n) => new URL(location.href).searchParams.get('q') === n, name, { timeout: SOON });
		await ready(page);
		await page.waitForFunction(() => document.querySelectorAll('#list > [data-id]').length === 1, null, { timeout: SOON });
		assert.match(await page.textContent('#list > [data-id]'), new RegExp(name));
		assert.equal(await page.getAttribute('#summary', 'data-total'), '1');
		await sameAsApi(page, 'keyword-sets', 'search');
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('deep link: keyword-sets.html?q=<a name> shows that record', async () => {
	const name = ksNames[42];
	const { page, track } = await open(browser.ctx, url(`keyword-sets.html?q=${encodeURIComponent(name)}`));
	try {
		await ready(page);
		const rows = await page.$$eval('#list > [data-id]', (r) => r.map((x) => x.textContent));
		assert.equal(rows.length, 1);
		assert.match(rows[0], new RegExp(name));
		assert.equal(await page.inputValue('#keyword-sets-q'), name);
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('sort by each column header (both directions) and by the sort select; filters; each equal to the API', async () => {
	for (let i = 0; i < 12; i++) {
		const body = SPECS.proxies.body();
		body.protocol = ['http', 'socks5', 'https'][i % 3];
		body.countryCode = i % 4 ? ['DE', 'fr', 'US'][i % 3].toUpperCase() : null;
		body.name = `${['zed', 'Alpha', 'alpha', 'Émile', '_under'][i % 5]} ${i} ${process.pid}`;
		const r = await stack.curl('POST', '/api/proxies', body);
		assert.equal(r.status, 201, JSON.stringify(r.body));
		if (i % 3) await stack.curl('PATCH', `/api/proxies/${r.body.id}`, { latencyMs: i % 5 ? i * 7 : null });
	}
	const { page, track } = await open(browser.ctx, url('proxies.html'));
	try {
		await ready(page);
		for (const f of ['name', 'countryCode', 'latencyMs']) {
			for (const dir of ['', '-']) {
				await page.click(`th [data-key="sort-${f}"]`);
				await page.waitForFunction((s) => new URL(location.href).searchParams.get('sort') === s, `${dir}${f}`, { timeout: SOON });
				await sameAsApi(page, 'proxies', `sort ${dir}${f}`);
				assert.equal(await page.getAttribute(`th[data-sort="${f}"]`, 'aria-sort'), dir ? 'descending' : 'ascending');
			}
		}
		await page.selectOption('#proxies-sort', 'updatedAt');
		await page.waitForFunction(() => new URL(location.href).searchParams.get('sort') === 'updatedAt', null, { timeout: SOON });
		await sameAsApi(page, 'proxies', 'sort updatedAt');
		await page.selectOption('#proxies-f-protocol', 'socks5');
		await page.waitForFunction(() => new URL(location.href).searchParams.get('protocol') === 'socks5', null, { timeout: SOON });
		const socks = await sameAsApi(page, 'proxies', 'filter protocol=socks5');
		assert.ok(socks.items.length > 0 && socks.items.every((r) => r.protocol === 'socks5'));
		await page.selectOption('#proxies-f-isEnabled', 'true');
		await sameAsApi(page, 'proxies', 'filters protocol and isEnabled');
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('paging: Next and Previous follow the cursors; the page size choice; back/forward walk the views', async () => {
	const { page, track } = await open(browser.ctx, url('keyword-sets.html'));
	try {
		const first = await sameAsApi(page, 'keyword-sets', 'first page');
		assert.equal(first.items.length, 50);
		await page.click('[data-key="next"]');
		await page.waitForFunction(() => new URL(location.href).searchParams.has('after'), null, { timeout: SOON });
		const second = await sameAsApi(page, 'keyword-sets', 'second page');
		assert.equal(new Set([...ids(first), ...ids(second)]).size, 100, 'pages overlap');
		await page.click('[data-key="next"]');
		await page.waitForFunction((n) => document.querySelectorAll('#list > [data-id]').length === n, KS - 100, { timeout: SOON });
		await sameAsApi(page, 'keyword-sets', 'third page');
		assert.equal(await page.isDisabled('[data-key="next"]'), true, 'Next on the last page');
		await page.click('[data-key="prev"]');
		await page.waitForFunction(() => new URL(location.href).searchParams.has('before'), null, { timeout: SOON });
		await ready(page);
		assert.deepEqual(await shown(page), ids(second), 'Previous from page 3 shows page 2');
		await page.click('[data-key="prev"]');
		await page.waitForFunction(() => !new URL(location.href).searchParams.has('before') && !new URL(location.href).searchParams.has('after'), null, { timeout: SOON });
		await ready(page);
		assert.deepEqual(await shown(page), ids(first), 'Previous to the start shows the first page');
		await page.selectOption('#keyword-sets-limit', '25');
		await page.waitForFunction(() => document.querySelectorAll('#list > [data-id]').length === 25, null, { timeout: SOON });
		await sameAsApi(page, 'keyword-sets', 'limit 25');
		// Back: 50 per page again, first page; back again: page 2.
		await page.goBack();
		await page.waitForFunction(() => !new URL(location.href).searchParams.has('limit'), null, { timeout: SOON });
		await ready(page);
		assert.deepEqual(await shown(page), ids(first));
		await page.goBack();
		await ready(page);
		await page.waitForFunction(() => new URL(location.href).searchParams.has('before'), null, { timeout: SOON });
		await ready(page);
		assert.deepEqual(await shown(page), ids(second), 'back shows page 2 again');
		await page.goForward();
		await ready(page);
		assert.deepEqual(await shown(page), ids(first));
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('live: insert, update, delete in a plain, a filtered and a sorted window; a row leaving the filter', async () => {
	const plain = await open(browser.ctx, url('proxies.html'));
	const filtered = await open(browser.ctx, url('proxies.html?protocol=socks4'));
	const sorted = await open(browser.ctx, url('proxies.html?sort=name'));
	try {
		for (const p of [plain, filtered, sorted]) await ready(p.page);
		const totalOf = (p) => p.page.getAttribute('#summary', 'data-total').then(Number);
		const t0 = await totalOf(filtered);
		const body = { ...SPECS.proxies.body(), protocol: 'socks4', name: `!first ${uniq('p')}` };
		const rec = (await stack.curl('POST', '/api/proxies', body)).body;
		for (const p of [plain, filtered, sorted]) await p.page.waitForSelector(sel(rec.id), { state: 'attached', timeout: SOON });
		// Sorted by name: "!" sorts first.
		assert.equal(await sorted.page.$eval('#list > [data-id]', (r) => r.dataset.id), rec.id);
		assert.equal(await totalOf(filtered), t0 + 1);
		const other = (await stack.curl('POST', '/api/proxies', { ...SPECS.proxies.body(), protocol: 'http' })).body;
		await plain.page.waitForSelector(sel(other.id), { state: 'attached', timeout: SOON });
		assert.equal(await filtered.page.$(sel(other.id)), null, 'an http proxy shown under protocol=socks4');
		const ch = (await stack.curl('PATCH', `/api/proxies/${rec.id}`, { latencyMs: 5 })).body;
		for (const p of [plain, filtered, sorted]) await p.page.waitForSelector(`${sel(rec.id)}[data-version="${ch.version}"]`, { state: 'attached', timeout: SOON });
		// Leaving the filter: gone from the filtered window, total down.
		await stack.curl('PATCH', `/api/proxies/${rec.id}`, { protocol: 'http' }).catch(() => {});
		const now = (await get(`/api/proxies/${rec.id}`));
		if (now.protocol === 'http') {
			await filtered.page.waitForSelector(sel(rec.id), { state: 'detached', timeout: SOON });
			assert.equal(await totalOf(filtered), t0);
		}
		await stack.curl('DELETE', `/api/proxies/${rec.id}`);
		for (const p of [plain, sorted]) await p.page.waitForSelector(sel(rec.id), { state: 'detached', timeout: SOON });
		await sameAsApi(plain.page, 'proxies', 'plain');
		await sameAsApi(filtered.page, 'proxies', 'filtered');
		await sameAsApi(sorted.page, 'proxies', 'sorted');
		for (const p of [plain, filtered, sorted]) {
			assert.deepEqual(p.track.apiAfterLoad.filter((r) => r.startsWith('GET /api/proxies')), [], 'a list was read again because of an event');
			assert.deepEqual(p.track.errors, []);
		}
	} finally {
		for (const p of [plain, filtered, sorted]) await p.page.close();
	}
});

test('page 2: new records before the window move the total and the "N new" line, not the rows; Show goes to the first page', async () => {
	const { page, track } = await open(browser.ctx, url('keyword-sets.html'));
	try {
		await ready(page);
		await page.click('[data-key="next"]');
		await page.waitForFunction(() => new URL(location.href).searchParams.has('after'), null, { timeout: SOON });
		await ready(page);
		const rows = await shown(page);
		const total = Number(await page.getAttribute('#summary', 'data-total'));
		const a = (await stack.curl('POST', '/api/keyword-sets', SPECS['keyword-sets'].body())).body;
		await stack.curl('POST', '/api/keyword-sets', SPECS['keyword-sets'].body());
		await page.waitForSelector('[data-role="news"]:not([hidden])', { timeout: SOON });
		await page.waitForFunction(() => /^2 new/.test(document.querySelector('[data-role="news"]').textContent), null, { timeout: SOON });
		assert.equal(Number(await page.getAttribute('#summary', 'data-total')), total + 2);
		assert.deepEqual(await shown(page), rows, 'the rows being read moved');
		await sameAsApi(page, 'keyword-sets', 'page 2 after inserts before it');
		await page.click('[data-key="show-news"]');
		await page.waitForSelector(sel(a.id), { state: 'attached', timeout: SOON });
		assert.equal(new URL(page.url()).searchParams.has('after'), false);
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('a burst of 200 progress PATCHes per second is applied exactly (the longest task is logged for the benchmark)', async () => {
	const camps = [];
	for (let i = 0; i < 30; i++) {
		const c = (await stack.curl('POST', '/api/campaigns', { ...SPECS.campaigns.body(), totalItems: 1000000000 })).body;
		await stack.curl('POST', `/api/campaigns/${c.id}/start`);
		await stack.curl('POST', `/api/campaigns/${c.id}/run`);
		camps.push(c);
	}
	const init = () => {
		window.longest = 0;
		new PerformanceObserver((l) => {
			for (const e of l.getEntries()) window.longest = Math.max(window.longest, e.duration);
		}).observe({ type: 'longtask', buffered: true });
	};
	const { page, track } = await open(browser.ctx, url('campaigns.html?status=running&sort=-updatedAt'), { init });
	try {
		await ready(page);
		// Only the burst counts, not the page's load.
		await page.evaluate(() => { window.longest = 0; });
		const since = await lastSeq('campaigns', 0);
		const t0 = Date.now();
		let sent = 0;
		const progress = new Map();
		const inflight = new Set();
		while (Date.now() - t0 < 3000) {
			const due = Math.floor(((Date.now() - t0) / 1000) * 200);
			while (sent < due && inflight.size < 16) {
				const c = camps[sent % camps.length];
				const n = (progress.get(c.id) || 0) + 1000;
				progress.set(c.id, n);
				const p = fetch(`${stack.url}/api/campaigns/${c.id}`, {
					method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ processedItems: n, successfulItems: n }),
				}).then((r) => r.text()).finally(() => inflight.delete(p));
				inflight.add(p);
				sent++;
			}
			await new Promise((r) => setTimeout(r, 5));
		}
		await Promise.all(inflight);
		await settled(page, await lastSeq('campaigns', since));
		const want = await get(apiOf(page, 'campaigns'));
		assert.deepEqual(await shown(page), ids(want), 'rows after the burst');
		const longest = await page.evaluate(() => window.longest);
		const stats = await page.evaluate(() => window.flowpush.colls.campaigns.stats);
		console.log(`burst: ${sent} PATCHes in ${((Date.now() - t0) / 1000).toFixed(1)} s; longest main-thread task ${longest.toFixed(0)} ms; ${stats.events} events in ${stats.flushes} renders, longest render ${stats.maxFlushMs.toFixed(1)} ms`);
		assert.deepEqual(track.apiAfterLoad.filter((r) => r.startsWith('GET /api/campaigns')), [], 'a list was read again during the burst');
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

/* Random writes: creates, changes of sort keys and filter fields, deletes. */
async function randomWrites(n, rnd) {
	const live = (await get('/api/proxies?limit=1000')).items.map((r) => r.id);
	for (let i = 0; i < n; i++) {
		const k = rnd();
		if (k < 0.35 || live.length < 5) {
			const body = { ...SPECS.proxies.body(), protocol: ['http', 'socks5'][Math.floor(rnd() * 2)], name: `${['a', 'B', 'c', 'É'][Math.floor(rnd() * 4)]}${uniq('r')}` };
			const r = await stack.curl('POST', '/api/proxies', body);
			if (r.status === 201) live.push(r.body.id);
		} else if (k < 0.8) {
			const id = live[Math.floor(rnd() * live.length)];
			const patch = {};
			if (rnd() < 0.5) patch.latencyMs = rnd() < 0.2 ? null : Math.floor(rnd() * 50);
			if (rnd() < 0.4) patch.isEnabled = rnd() < 0.5;
			if (rnd() < 0.3) patch.name = `${['a', 'B', 'z'][Math.floor(rnd() * 3)]}${uniq('m')}`;
			if (rnd() < 0.3) patch.protocol = ['http', 'socks5'][Math.floor(rnd() * 2)];
			await stack.curl('PATCH', `/api/proxies/${id}`, Object.keys(patch).length ? patch : { latencyMs: 1 });
		} else {
			const [id] = live.splice(Math.floor(rnd() * live.length), 1);
			await stack.curl('DELETE', `/api/proxies/${id}`);
		}
	}
}

test('after random writes each window equals a fresh API read of its URL (first page, filtered and sorted, page 2, paged back)', async () => {
	let s = 12345;
	const rnd = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
	for (let i = 0; i < 60; i++) {
		const r = await stack.curl('POST', '/api/proxies', { ...SPECS.proxies.body(), protocol: i % 2 ? 'socks5' : 'http' });
		assert.equal(r.status, 201, JSON.stringify(r.body));
	}
	await randomWrites(40, rnd);
	const views = [
		'proxies.html?limit=25',
		'proxies.html?sort=latencyMs&isEnabled=true&limit=25',
		'proxies.html?sort=-name&protocol=socks5&limit=25',
	];
	const pages = [];
	try {
		for (const v of views) pages.push(await open(browser.ctx, url(v)));
		// One more window, on its second page, one paged back from page 3.
		const p2 = await open(browser.ctx, url('proxies.html?sort=name&limit=25'));
		pages.push(p2);
		await ready(p2.page);
		await p2.page.click('[data-key="next"]');
		await p2.page.waitForFunction(() => new URL(location.href).searchParams.has('after'), null, { timeout: SOON });
		const p3 = await open(browser.ctx, url('proxies.html?sort=latencyMs&limit=25'));
		pages.push(p3);
		await ready(p3.page);
		await p3.page.click('[data-key="next"]');
		await p3.page.waitForFunction(() => new URL(location.href).searchParams.has('after'), null, { timeout: SOON });
		await ready(p3.page);
		const page2 = new URL(p3.page.url()).searchParams.get('after');
		await p3.page.click('[data-key="next"]');
		await p3.page.waitForFunction((a) => new URL(location.href).searchParams.get('after') !== a, page2, { timeout: SOON });
		await ready(p3.page);
		await p3.page.click('[data-key="prev"]');
		await p3.page.waitForFunction(() => new URL(location.href).searchParams.has('before'), null, { timeout: SOON });
		for (let round = 0; round < 3; round++) {
			await randomWrites(40, rnd);
			for (const p of pages) await sameAsApi(p.page, 'proxies', `round ${round}: ${new URL(p.page.url()).search}`);
		}
		for (const p of pages) assert.deepEqual(p.track.errors, []);
	} finally {
		for (const p of pages) await p.page.close();
	}
});

test('a pool names its members by id (kept live), and a proxy is added by searching, not from a whole list', async () => {
	const px = (await stack.curl('POST', '/api/proxies', { ...SPECS.proxies.body(), name: `Findme ${uniq('px')}` })).body;
	const pool = (await stack.curl('POST', '/api/proxy-pools', SPECS['proxy-pools'].body())).body;
	const { page, track } = await open(browser.ctx, url('proxy-pools.html'));
	try {
		await ready(page);
		const input = `${sel(pool.id)} input[list]`;
		await page.fill(input, px.name.slice(0, 12));
		const option = `${px.name} (${px.address}) (${px.id.slice(0, 8)})`;
		await page.waitForSelector(`${sel(pool.id)} datalist option[value="${option}"]`, { state: 'attached', timeout: SOON });
		await page.fill(input, option);
		await page.waitForSelector(`${sel(pool.id)} .chip[data-choice="${px.id}"]`, { timeout: SOON });
		await page.click(`${sel(pool.id)} [data-key="add"]`);
		await page.waitForSelector(`${sel(pool.id)} [data-member="${px.id}"]`, { timeout: SOON });
		assert.match(await page.textContent(`${sel(pool.id)} [data-member="${px.id}"]`), new RegExp(px.name));
		// The member's name follows the proxy's events.
		const renamed = `Renamed ${uniq('px')}`;
		await stack.curl('PATCH', `/api/proxies/${px.id}`, { name: renamed });
		await page.waitForFunction(([s, n]) => (document.querySelector(s) || {}).textContent?.includes(n),
			[`${sel(pool.id)} [data-member="${px.id}"]`, renamed], { timeout: SOON });
		const proxyReads = track.api.filter((r) => r.startsWith('GET /api/proxies'));
		assert.ok(proxyReads.every((r) => /[?&](ids|q)=/.test(r)), `a proxies read without ids or q: ${proxyReads}`);
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});
