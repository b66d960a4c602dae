// browser.mjs - Debian's Chromium driven by playwright-core, and pages that count their own requests.

import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARGS = [
	'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/*
 * launch starts one Chromium with a fresh profile folder (playwright passes
 * it as --user-data-dir) and returns {ctx, close()}. Pages of one context
 * share an origin, so they share one live connection. playwright turns the
 * back/forward cache off; bfcache: true keeps it on.
 */
export async function launch({ width = 1280, height = 900, bfcache = false } = {}) {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'fp-chromium-'));
	const ctx = await chromium.launchPersistentContext(dir, {
		executablePath: CHROMIUM, headless: true, args: ARGS,
		viewport: { width, height }, timeout: 60000,
		...(bfcache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
	});
	return {
		ctx,
		async close() {
			await ctx.close().catch(() => {});
			await rm(dir, { recursive: true, force: true });
		},
	};
}

/*
 * open loads url in a new page of ctx and waits until the page is live
 * (its lists loaded and a transport answering). The returned track counts
 * what the page does after that point: API requests (track.apiAfterLoad),
 * WebSocket frames received, and page errors. init runs in the page before
 * its scripts; setup(page) runs before it loads (routes, listeners).
 */
export async function open(ctx, url, { transport = null, init = null, setup = null } = {}) {
	const page = await ctx.newPage();
	const track = { api: [], apiAfterLoad: [], push: [], sockets: [], frames: 0, errors: [], loaded: false };
	if (init) await page.addInitScript(init);
	if (setup) await setup(page);
	page.on('request', (r) => {
		const u = new URL(r.url());
		if (u.pathname.startsWith('/api/')) {
			track.api.push(`${r.method()} ${u.pathname}${u.search}`);
			if (track.loaded) track.apiAfterLoad.push(`${r.method()} ${u.pathname}${u.search}`);
		} else if (u.pathname.startsWith('/push/')) {
			track.push.push(u.pathname);
		}
	});
	page.on('websocket', (ws) => {
		track.sockets.push(ws);
		ws.on('framereceived', () => { track.frames++; });
	});
	page.on('pageerror', (e) => track.errors.push(e.message));
	page.on('dialog', (d) => d.accept());
	await page.goto(url);
	await waitLive(page, transport);
	track.loaded = true;
	return { page, track };
}

export async function waitLive(page, transport = null, timeout = 20000) {
	const sel = `#conn[data-state="live"]${transport ? `[data-transport="${transport}"]` : ''}`;
	await page.waitForSelector(sel, { timeout, state: 'attached' });
}

/* within measures how long fn's awaited condition took; throws past ms. */
export async function within(ms, fn) {
	const t0 = Date.now();
	await fn(ms);
	return Date.now() - t0;
}

export const sel = (id) => `[data-id="${id}"]`;
