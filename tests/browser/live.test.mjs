// live.test.mjs - every page shows records created, changed and deleted by curl, by a form on another tab and by the CLI, within 1 s, with no API request after its first load.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/stack.mjs';
import { launch, open, sel } from './lib/browser.mjs';
import { SPECS, uniq } from './lib/specs.mjs';

const SOON = 1000;
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

const url = (p) => `${stack.url}/${p}`;

async function write(source, op, coll, actor, rec) {
	const spec = SPECS[coll];
	if (source === 'curl') {
		if (op === 'create') {
			const r = await stack.curl('POST', `/api/${coll}`, spec.body());
			assert.equal(r.status, 201, JSON.stringify(r.body));
			return r.body;
		}
		if (op === 'update') {
			const r = await stack.curl('PATCH', `/api/${coll}/${rec.id}`, spec.patch());
			assert.equal(r.status, 200, JSON.stringify(r.body));
			return r.body;
		}
		const r = await stack.curl('DELETE', `/api/${coll}/${rec.id}`);
		assert.equal(r.status, 204, JSON.stringify(r.body));
		return null;
	}
	if (source === 'cli') {
		if (op === 'create') return stack.cli(['create', coll], spec.body());
		if (op === 'update') return stack.cli(['update', coll, rec.id], spec.patch());
		await stack.cli(['delete', coll, rec.id]);
		return null;
	}
	return spec.form[op](actor, rec);
}

for (const [coll, spec] of Object.entries(SPECS)) {
	test(`${spec.page}: created, changed and deleted by curl, a form and the CLI, shown within 1 s, no API request after load`, async () => {
		// The first tab of the origin leads: it holds the one WebSocket.
		const { page: obs, track } = await open(browser.ctx, url(spec.page), { transport: 'websocket' });
		const { page: actor, track: actorTrack } = await open(browser.ctx, url(spec.page));
		try {
			for (const source of ['curl', 'form', 'cli']) {
				const rec = await write(source, 'create', coll, actor);
				await obs.waitForSelector(sel(rec.id), { state: 'attached', timeout: SOON });
				const changed = await write(source, 'update', coll, actor, rec);
				assert.ok(changed.version > rec.version);
				await obs.waitForSelector(`${sel(rec.id)}[data-version="${changed.version}"]`, { state: 'attached', timeout: SOON });
				await write(source, 'remove', coll, actor, changed);
				await obs.waitForSelector(sel(rec.id), { state: 'detached', timeout: SOON });
			}
			assert.deepEqual(track.apiAfterLoad, [], 'the page made API requests after its first load');
			assert.equal(track.sockets.length, 1, 'one WebSocket for the page');
			assert.ok(track.frames >= 9, `only ${track.frames} WebSocket frames arrived`);
			assert.equal(actorTrack.sockets.length, 0, 'the second tab opened its own WebSocket instead of sharing');
			assert.equal(await actor.getAttribute('#conn', 'data-role'), 'follower');
			assert.deepEqual([...track.errors, ...actorTrack.errors], []);
		} finally {
			await actor.close();
			await obs.close();
		}
	});
}

test('index.html: counters and the activity list follow curl, form and CLI writes within 1 s, no API request after load', async () => {
	const { page: dash, track } = await open(browser.ctx, url('index.html'), { transport: 'websocket' });
	const { page: actor } = await open(browser.ctx, url('personas.html'));
	const count = () => dash.getAttribute('[data-stat="personas"] [data-value]', 'data-n').then(Number);
	try {
		for (const source of ['curl', 'form', 'cli']) {
			const before = await count();
			const rec = await write(source, 'create', 'personas', actor);
			await dash.waitForSelector(`#activity li[data-id="${rec.id}"][data-action="created"]`, { timeout: SOON });
			await dash.waitForFunction((n) => Number(document.querySelector('[data-stat="personas"] [data-value]').dataset.n) === n, before + 1, { timeout: SOON });
			await write(source, 'update', 'personas', actor, rec);
			await dash.waitForSelector(`#activity li[data-id="${rec.id}"][data-action="updated"]`, { timeout: SOON });
			await write(source, 'remove', 'personas', actor, rec);
			await dash.waitForSelector(`#activity li[data-id="${rec.id}"][data-action="deleted"]`, { timeout: SOON });
			await dash.waitForFunction((n) => Number(document.querySelector('[data-stat="personas"] [data-value]').dataset.n) === n, before, { timeout: SOON });
		}
		// A campaign: the "Campaigns" counter and then the running list.
		const c = await stack.cli(['create', 'campaigns'], SPECS.campaigns.body());
		await dash.waitForSelector(`#activity li[data-id="${c.id}"]`, { timeout: SOON });
		await stack.curl('POST', `/api/campaigns/${c.id}/start`);
		await stack.curl('POST', `/api/campaigns/${c.id}/run`);
		await dash.waitForSelector(`#running ${sel(c.id)}`, { timeout: SOON });
		assert.equal(await dash.getAttribute('[data-stat="running"] [data-value]', 'data-n'), '1');
		assert.deepEqual(track.apiAfterLoad, []);
		assert.deepEqual(track.errors, []);
		assert.equal(await dash.$$eval('#activity li', (l) => l.length) <= 20, true);
	} finally {
		await actor.close();
		await dash.close();
	}
});

test('a name the server refuses shows its 422 message next to the field, and a bad regex next to its rule', async () => {
	const { page } = await open(browser.ctx, url('keyword-sets.html'));
	try {
		await page.fill('#ks-form [name="name"]', uniq('Bad regex'));
		await page.click('#add-rule');
		await page.fill('#rules input[name="rules[0].pattern"]', 'ok');
		await page.click('#add-rule');
		await page.fill('#rules input[name="rules[1].pattern"]', '(unclosed');
		await page.selectOption('#rules select[name="rules[1].ruleType"]', 'regex');
		await page.click('#ks-form button[type="submit"]');
		const err = await page.waitForSelector('#rules .rule-row:nth-child(2) .field-error', { timeout: 5000 });
		assert.match(await err.textContent(), /.+/);
		assert.equal(await page.getAttribute('#rules input[name="rules[1].pattern"]', 'aria-invalid'), 'true');
	} finally {
		await page.close();
	}
});
