// screenshots.test.mjs - every page at 1280 and 390 px wide with demo data: nothing overflows sideways; the pictures go to $FLOWPUSH_SCREENSHOTS.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startStack } from './lib/stack.mjs';
import { launch, open } from './lib/browser.mjs';

/* A test run leaves the work tree as it was: the pictures go to
 * FLOWPUSH_SCREENSHOTS (./quickstart check: STATE/screenshots), else
 * beside the state, else to a temporary folder. Only ./quickstart
 * screenshots points it at docs/screenshots/, on request. */
const OUT = process.env.FLOWPUSH_SCREENSHOTS
	|| path.join(process.env.FLOWPUSH_STATE || path.join(os.tmpdir(), 'flowpush'), 'screenshots');
const PAGES = ['index', 'campaigns', 'personas', 'keyword-sets', 'proxies', 'proxy-pools'];
let stack;
let browser;

before(async () => {
	stack = await startStack({ demo: true });
	browser = await launch();
	await mkdir(OUT, { recursive: true });
});
after(async () => {
	await browser?.close();
	await stack?.stop();
});

for (const width of [1280, 390]) {
	test(`every page at ${width} px: live, labelled, no sideways scrolling`, async () => {
		for (const name of PAGES) {
			const { page, track } = await open(browser.ctx, `${stack.url}/${name}.html?share=0`, { transport: 'websocket' });
			try {
				await page.setViewportSize({ width, height: 900 });
				await page.waitForTimeout(150);
				const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
				assert.ok(overflow <= 0, `${name} scrolls sideways by ${overflow} px at ${width}`);
				// Every visible control has an accessible name.
				const unnamed = await page.$$eval('input:not([type="hidden"]), select, textarea, button', (els) => els
					.filter((e) => e.offsetParent !== null)
					.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby') && !(e.textContent || '').trim())
					.map((e) => e.outerHTML.slice(0, 80)));
				assert.deepEqual(unnamed, [], `${name}: controls without a label`);
				await page.screenshot({ path: path.join(OUT, `${name}-${width}.png`), fullPage: true });
				assert.deepEqual(track.errors, []);
			} finally {
				await page.close();
			}
		}
	});
}
