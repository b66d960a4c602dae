// editing.test.mjs - a concurrent edit is reported, never lost; a campaign's progress bar follows PATCHed progress.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/stack.mjs';
import { launch, open, sel } from './lib/browser.mjs';
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

const url = (p) => `${stack.url}/${p}?share=0`;
const get = async (p) => (await stack.curl('GET', p)).body;

test('a concurrent edit produces the conflict message; Overwrite and Reload both keep every change visible', async () => {
	const { page, track } = await open(browser.ctx, url('personas.html'));
	try {
		const rec = (await stack.curl('POST', '/api/personas', SPECS.personas.body())).body;
		await page.waitForSelector(sel(rec.id), { state: 'attached', timeout: 1000 });

		// Round 1: someone else saves while the form is open; ours is refused.
		await page.click(`${sel(rec.id)} [data-key="edit"]`);
		await page.fill('#form-dns [name="description"]', 'mine');
		const theirs = await stack.curl('PATCH', `/api/personas/${rec.id}`, { description: 'theirs' });
		assert.equal(theirs.status, 200);
		await page.waitForSelector('#form-dns .notice', { timeout: 1000 });
		await page.click('#form-dns button[type="submit"]');
		const box = await page.waitForSelector('#form-dns .form-error.conflict', { timeout: 5000 });
		assert.match(await box.textContent(), /changed by someone else/);
		assert.equal((await get(`/api/personas/${rec.id}`)).description, 'theirs', 'their change was not lost');

		// Overwrite: ours is saved over theirs on purpose.
		await page.click('#form-dns [data-key="conflict-overwrite"]');
		await page.waitForSelector(`${sel(rec.id)}[data-version="3"]`, { state: 'attached', timeout: 5000 });
		assert.equal((await get(`/api/personas/${rec.id}`)).description, 'mine');

		// Round 2: Reload takes their version into the form.
		await page.click(`${sel(rec.id)} [data-key="edit"]`);
		await page.fill('#form-dns [name="description"]', 'mine again');
		await stack.cli(['update', 'personas', rec.id], { description: 'theirs again' });
		await page.waitForSelector(`${sel(rec.id)}[data-version="4"]`, { state: 'attached', timeout: 1000 });
		await page.click('#form-dns button[type="submit"]');
		await page.waitForSelector('#form-dns .form-error.conflict', { timeout: 5000 });
		await page.click('#form-dns [data-key="conflict-reload"]');
		assert.equal(await page.inputValue('#form-dns [name="description"]'), 'theirs again');
		assert.equal((await get(`/api/personas/${rec.id}`)).description, 'theirs again');
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('a campaign progress bar moves as progress is PATCHed, and the card completes by itself', async () => {
	const { page, track } = await open(browser.ctx, url('campaigns.html'));
	try {
		const c = (await stack.curl('POST', '/api/campaigns', SPECS.campaigns.body())).body;
		assert.equal((await stack.curl('POST', `/api/campaigns/${c.id}/start`)).status, 200);
		assert.equal((await stack.curl('POST', `/api/campaigns/${c.id}/run`)).status, 200);
		await page.waitForSelector(`${sel(c.id)}[data-status="running"]`, { timeout: 1000 });
		const bar = `${sel(c.id)} [role="progressbar"]`;
		for (const done of [100, 250, 600, 999]) {
			const r = await stack.curl('PATCH', `/api/campaigns/${c.id}`, { processedItems: done, successfulItems: done });
			assert.equal(r.status, 200, JSON.stringify(r.body));
			await page.waitForFunction(([s, v]) => {
				const el = document.querySelector(s);
				return el && Math.abs(Number(el.getAttribute('aria-valuenow')) - v) < 0.2;
			}, [bar, done / 10], { timeout: 1000 });
		}
		const width = await page.$eval(`${bar} .progress-fill`, (el) => el.style.width);
		assert.equal(parseFloat(width), 99.9);
		await stack.curl('PATCH', `/api/campaigns/${c.id}`, { processedItems: 1000, successfulItems: 1000 });
		await page.waitForSelector(`${sel(c.id)}[data-status="completed"]`, { timeout: 1000 });
		assert.equal(await page.getAttribute(bar, 'aria-valuenow'), '100');
		// The total of the page's window still counts it (no status filter).
		const all = (await stack.curl('GET', '/api/campaigns?limit=1')).body;
		assert.equal(await page.getAttribute('#summary', 'data-total'), String(all.total));
		assert.deepEqual(track.apiAfterLoad, []);
	} finally {
		await page.close();
	}
});
