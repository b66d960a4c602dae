// page_bench.mjs - the pages at size in Chromium: time to first rows and JS heap at 10 against N records, the longest main-thread task under 200 events/s.
//
// Usage: FLOWPUSH_BUILD=DIR node bench/page_bench.mjs [--database PATH]
//          [--scale N] [--runs R] [--rate E] [--seconds S] [--burst-only]
//
// Starts two real stacks (tests/browser/lib/stack.mjs: nginx, spawn-fcgi +
// flowpush.fcgi, flowpushd on free loopback ports): one with 10 records per
// collection, one on --database (a database made by `flowpush demo --scale`,
// e.g. the one bench/list_bench.py --keep leaves) or, without it, with
// --scale records per collection made here (default 100,000: minutes).
// For every page it opens a fresh Chromium profile R times (default 5) per
// stack, alternating the two, and measures from navigation start to the
// first rendered record ([data-id] in <main>), and the JS heap after load
// (CDP Runtime.getHeapUsage after a forced GC). Then, on the large stack,
// campaigns.html?status=running&sort=-progressPercentage is opened and the
// running campaigns get progress PATCHes through the API at --rate a second
// (default 200) for --seconds (default 5): the page reports its long tasks
// (PerformanceObserver, 50 ms and up), its longest gap between animation
// frames and its renders; after the burst its rows are compared with a
// fresh API read. Every loop is bounded; the run stops by itself.
// Prints JSON lines, then Markdown tables.

import { startStack } from '../tests/browser/lib/stack.mjs';
import { launch } from '../tests/browser/lib/browser.mjs';

const arg = (name, dflt) => {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('runs', 5));
const WRITERS = 16;
const RATE = Number(arg('rate', 200));
const SECONDS = Number(arg('seconds', 5));
const SCALE = Number(arg('scale', 100000));
const DATABASE = arg('database', null);
const BURST_ONLY = process.argv.includes('--burst-only');
const PAGES = ['keyword-sets.html', 'proxies.html', 'campaigns.html', 'personas.html', 'proxy-pools.html', 'index.html'];

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };

/* The first record on screen, seen from inside the page. */
const FIRST_ROW = () => {
	window.__firstRow = null;
	new MutationObserver((_, obs) => {
		if (document.querySelector('main [data-id]')) {
			window.__firstRow = performance.now();
			obs.disconnect();
		}
	}).observe(document, { subtree: true, childList: true });
};

async function firstRows(url) {
	const b = await launch();
	try {
		const page = await b.ctx.newPage();
		await page.addInitScript(FIRST_ROW);
		await page.goto(url);
		await page.waitForFunction(() => window.__firstRow !== null, null, { timeout: 60000 });
		await page.waitForSelector('#conn[data-state="live"]', { state: 'attached', timeout: 60000 });
		const ms = await page.evaluate(() => window.__firstRow);
		const cdp = await b.ctx.newCDPSession(page);
		await cdp.send('HeapProfiler.collectGarbage');
		const heap = await cdp.send('Runtime.getHeapUsage');
		const rows = await page.$$eval('main [data-id]', (l) => l.length);
		return { ms, heapMB: heap.usedSize / 1048576, rows };
	} finally {
		await b.close();
	}
}

/* The page's own account of its main thread under a burst. */
const WATCH = () => {
	window.__long = [];
	window.__gap = 0;
	new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
		.observe({ type: 'longtask', buffered: true });
	let last = performance.now();
	const frame = (t) => { window.__gap = Math.max(window.__gap, t - last); last = t; requestAnimationFrame(frame); };
	requestAnimationFrame(frame);
};

async function burst(stack) {
	const view = '/api/campaigns?status=running&sort=-progressPercentage&limit=200';
	// A multiple of the writers: campaign k % n is always PATCHed by
	// writer k % WRITERS, so no two PATCHes of one campaign overtake each
	// other (the later one would be refused: counters never go down).
	const all = (await stack.curl('GET', view)).body.items;
	const running = all.slice(0, all.length - (all.length % WRITERS));
	const b = await launch();
	try {
		const page = await b.ctx.newPage();
		await page.addInitScript(WATCH);
		await page.goto(`${stack.url}/campaigns.html?status=running&sort=-progressPercentage`);
		await page.waitForSelector('#conn[data-state="live"]', { state: 'attached', timeout: 60000 });
		await page.waitForSelector('main [data-id]', { timeout: 60000 });
		await page.evaluate(() => { window.__gap = 0; window.__long = []; });
		const done = new Map(running.map((r) => [r.id, r.processedItems]));
		const total = RATE * SECONDS;
		const t0 = Date.now();
		let failed = 0;
		const statuses = {};
		let lastSeq = 0;
		// Paced: request k leaves at t0 + k / RATE; a few in flight at once.
		const worker = async (w) => {
			for (let k = w; k < total; k += WRITERS) {
				const due = t0 + (k * 1000) / RATE;
				const wait = due - Date.now();
				if (wait > 0) await new Promise((r) => setTimeout(r, wait));
				const c = running[k % running.length];
				const n = Math.min(done.get(c.id) + 1, c.totalItems - 1);
				done.set(c.id, n);
				const res = await fetch(`${stack.url}/api/campaigns/${c.id}`, {
					method: 'PATCH', headers: { 'Content-Type': 'application/json' },
					body: JSON.stringify({ processedItems: n, successfulItems: n - c.failedItems }),
				});
				if (!res.ok) {
					failed++;
					statuses[res.status] = (statuses[res.status] || 0) + 1;
				}
				await res.arrayBuffer();
			}
		};
		await Promise.all(Array.from({ length: WRITERS }, (_, w) => worker(w)));
		const secs = (Date.now() - t0) / 1000;
		const ch = (await stack.curl('GET', '/api/changes?since=0&limit=1')).body;
		lastSeq = ch.seq;
		// Settled: the page has applied everything up to the last write.
		await page.waitForFunction((s) => Number(document.querySelector('[data-seq]')?.dataset.seq || 0) >= s,
			lastSeq, { timeout: 30000 }).catch(() => {});
		const seen = await page.evaluate(() => ({ long: window.__long, gap: window.__gap }));
		const shown = await page.$$eval('main [data-id]', (l) => l.map((e) => `${e.dataset.id}@${e.dataset.version}`));
		const api = (await stack.curl('GET', '/api/campaigns?status=running&sort=-progressPercentage&limit=50')).body.items
			.map((r) => `${r.id}@${r.version}`);
		return {
			events: total, seconds: Number(secs.toFixed(2)), eventsPerSecond: Math.round(total / secs), failed, failedStatuses: JSON.stringify(statuses),
			longTasks: seen.long.length, longestTaskMs: seen.long.length ? Math.max(...seen.long) : 0,
			longestFrameGapMs: Number(seen.gap.toFixed(1)),
			windowMatchesApi: JSON.stringify(shown) === JSON.stringify(api),
		};
	} finally {
		await b.close();
	}
}

async function main() {
	const small = await startStack();
	const big = await startStack(DATABASE ? { env: { FLOWPUSH_DATABASE: DATABASE } } : {});
	try {
		await small.cli(['demo', '--scale', '10']);
		if (!DATABASE) await big.cli(['demo', '--scale', String(SCALE)]);
		const records = (await big.curl('GET', '/api/keyword-sets?limit=1')).body.total;
		const rows = [];
		for (const p of BURST_ONLY ? [] : PAGES) {
			const r = { page: p, small: [], big: [] };
			for (let i = 0; i < RUNS; i++) {
				const order = i % 2 ? ['big', 'small'] : ['small', 'big'];
				for (const which of order) r[which].push(await firstRows(`${(which === 'big' ? big : small).url}/${p}`));
			}
			const row = {
				page: p, records,
				smallMs: median(r.small.map((x) => x.ms)), bigMs: median(r.big.map((x) => x.ms)),
				smallHeapMB: median(r.small.map((x) => x.heapMB)), bigHeapMB: median(r.big.map((x) => x.heapMB)),
				bigRows: r.big[0].rows,
			};
			row.ratio = row.bigMs / row.smallMs;
			console.log(JSON.stringify(row));
			rows.push(row);
		}
		const b = await burst(big);
		console.log(JSON.stringify({ burst: b }));
		console.log(`\n| page | first rows at 10 (ms) | at ${records.toLocaleString('en-US')} (ms) | ratio | JS heap at 10 / at ${records.toLocaleString('en-US')} (MB) |`);
		console.log('|---|---|---|---|---|');
		for (const r of rows) {
			console.log(`| ${r.page} | ${r.smallMs.toFixed(0)} | ${r.bigMs.toFixed(0)} | ${r.ratio.toFixed(2)} | ${r.smallHeapMB.toFixed(1)} / ${r.bigHeapMB.toFixed(1)} |`);
		}
		console.log(`\n| burst into campaigns.html (running, by progress) | value |\n|---|---|`);
		for (const [k, v] of Object.entries(b)) console.log(`| ${k} | ${v} |`);
	} finally {
		await big.stop();
		await small.stop();
	}
}

main().catch((e) => { console.error(e); process.exit(1); });
