// console.test.mjs - the console's forms and looks: campaign edits, failed forms with and without JavaScript, field errors, the narrow navigation, proxy health words, pool member rows.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startStack } from './lib/stack.mjs';
import { launch, open, sel, CHROMIUM, ARGS } from './lib/browser.mjs';
import { uniq } from './lib/specs.mjs';

let stack;
let browser;
let seqAddr = 0;

before(async () => {
	stack = await startStack();
	browser = await launch();
});
after(async () => {
	await browser?.close();
	await stack?.stop();
});

const url = (p) => `${stack.url}/${p}${p.includes('?') ? '&' : '?'}share=0`;
const get = async (p) => (await stack.curl('GET', p)).body;
const address = () => `10.77.${(process.pid >> 8) & 255}.${++seqAddr}:3128`;

async function post(coll, body) {
	const r = await stack.curl('POST', `/api/${coll}`, body);
	assert.equal(r.status, 201, JSON.stringify(r.body));
	return r.body;
}

const genCampaign = (name) => ({
	name, campaignType: 'domain_generation', description: 'to edit',
	domainGenerationParams: { patternType: 'prefix', variableLength: 3, characterSet: 'abc', tld: '.com' },
});

/* visibleBoxes: the error boxes above forms that are on screen. */
const visibleBoxes = (page) => page.$$eval('.form-error', (els) => els
	.filter((e) => e.offsetParent !== null).map((e) => e.textContent));

/* postNatively sends form the way a browser without JavaScript does (no
 * submit handler runs) and waits for the page it is sent back to. */
async function postNatively(page, form) {
	await Promise.all([
		page.waitForNavigation({ waitUntil: 'load' }),
		page.$eval(form, (f) => HTMLFormElement.prototype.submit.call(f)),
	]);
}

test('a campaign is edited in the form of its type: name, totals and parameters are PATCHed', async () => {
	const c = await post('campaigns', genCampaign(uniq('Editable')));
	const { page, track } = await open(browser.ctx, url('campaigns.html'));
	try {
		await page.waitForSelector(sel(c.id), { state: 'attached', timeout: 5000 });
		await page.click(`${sel(c.id)} [data-key="edit"]`);
		await page.waitForSelector('#form-gen[data-editing]');
		assert.equal(await page.isVisible('#form-gen'), true);
		assert.equal(await page.isVisible('#type-picker'), false, 'the type of a campaign cannot change');
		assert.equal(await page.inputValue('#form-gen [name="name"]'), c.name);
		assert.equal(await page.inputValue('#form-gen [name="domainGenerationParams.variableLength"]'), '3');
		assert.match(await page.textContent('#form-gen .form-title'), /Edit campaign/);

		await page.fill('#form-gen [name="name"]', `${c.name} renamed`);
		await page.fill('#form-gen [name="totalItems"]', '40');
		await page.fill('#form-gen [name="domainGenerationParams.variableLength"]', '5');
		await page.selectOption('#form-gen [name="domainGenerationParams.patternType"]', 'suffix');
		const [res] = await Promise.all([
			page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().endsWith(`/api/campaigns/${c.id}`)),
			page.click('#form-gen button[type="submit"]'),
		]);
		assert.equal(res.status(), 200, await res.text());
		await page.waitForSelector(`${sel(c.id)}[data-version="2"]`, { state: 'attached', timeout: 5000 });
		assert.match(await page.textContent(`${sel(c.id)} h3`), /renamed/);
		const got = await get(`/api/campaigns/${c.id}`);
		assert.equal(got.name, `${c.name} renamed`);
		assert.equal(got.totalItems, 40);
		assert.equal(got.status, 'pending');
		assert.deepEqual([got.domainGenerationParams.variableLength, got.domainGenerationParams.patternType], [5, 'suffix']);
		// Saved: the form is a create form again.
		assert.equal(await page.getAttribute('#form-gen', 'data-editing'), null);
		assert.equal(await page.isVisible('#type-picker'), true);
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('a validation campaign opens with its chosen records by name, and an emptied list is saved empty', async () => {
	const src = await post('campaigns', genCampaign(uniq('Source')));
	const pa = await post('personas', { name: uniq('Http A'), personaType: 'http', configDetails: { userAgent: 'ua' } });
	const ks = await post('keyword-sets', { name: uniq('Words'), rules: [{ pattern: 'x', ruleType: 'string' }] });
	const c = await post('campaigns', {
		name: uniq('Http check'), campaignType: 'http_keyword_validation',
		httpKeywordParams: { sourceCampaignId: src.id, personaIds: [pa.id], keywordSetIds: [ks.id], targetHttpPorts: [443] },
	});
	const { page, track } = await open(browser.ctx, url('campaigns.html'));
	try {
		await page.waitForSelector(sel(c.id), { state: 'attached', timeout: 5000 });
		await page.click(`${sel(c.id)} [data-key="edit"]`);
		await page.waitForSelector('#form-httpv[data-editing]');
		const chip = (id) => `#form-httpv .chip[data-choice="${id}"]`;
		await page.waitForFunction((s) => document.querySelector(s)?.textContent.includes('Http A'), chip(pa.id));
		await page.waitForFunction((s) => document.querySelector(s)?.textContent.includes('Words'), chip(ks.id));
		assert.ok(await page.$(chip(src.id)));
		assert.equal(await page.isChecked('#form-httpv input[name="httpKeywordParams.targetHttpPorts"][value="443"]'), true);
		assert.equal(await page.isChecked('#form-httpv input[name="httpKeywordParams.targetHttpPorts"][value="80"]'), false);

		await page.click(`${chip(ks.id)} button`);
		const [res] = await Promise.all([
			page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().endsWith(`/api/campaigns/${c.id}`)),
			page.click('#form-httpv button[type="submit"]'),
		]);
		assert.equal(res.status(), 200, await res.text());
		const got = await get(`/api/campaigns/${c.id}`);
		assert.deepEqual(got.httpKeywordParams.keywordSetIds, []);
		assert.deepEqual(got.httpKeywordParams.personaIds, [pa.id]);
		assert.deepEqual(got.httpKeywordParams.targetHttpPorts, [443]);
		assert.equal(got.httpKeywordParams.sourceCampaignId, src.id);
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('with JavaScript, errors that all belong to fields show at the fields and no box above the form', async () => {
	const { page, track } = await open(browser.ctx, url('proxies.html'));
	try {
		await page.fill('#proxy-form [name="name"]', uniq('Bad address'));
		await page.fill('#proxy-form [name="address"]', 'no-port-here');
		const [res] = await Promise.all([
			page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/proxies')),
			page.click('#proxy-form button[type="submit"]'),
		]);
		assert.equal(res.status(), 422);
		await page.waitForSelector('#proxy-form .field-error[data-path="address"]');
		assert.equal(await page.getAttribute('#proxy-form [name="address"]', 'aria-invalid'), 'true');
		assert.deepEqual(await visibleBoxes(page), [], 'an error box shows above the form');

		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('a form posted without its script comes back with the error at its fields and what was typed, never the password', async () => {
	const { page, track } = await open(browser.ctx, url('proxies.html'));
	const locations = [];
	page.on('response', (r) => { if (r.status() === 303) locations.push(r.headers().location); });
	try {
		const name = uniq('Typed');
		await page.fill('#proxy-form [name="name"]', name);
		await page.fill('#proxy-form [name="address"]', 'bad address');
		await page.selectOption('#proxy-form [name="protocol"]', 'socks5');
		await page.fill('#proxy-form [name="username"]', 'bob');
		await page.fill('#proxy-form [name="password"]', 'hunter2-secret');
		await page.uncheck('#proxy-form #isEnabled');
		await postNatively(page, '#proxy-form');
		assert.equal(locations.length, 1);
		assert.ok(!locations[0].includes('hunter2'), locations[0]);

		await page.waitForSelector('#proxy-form .field-error[data-path="address"]', { timeout: 5000 });
		assert.equal(await page.inputValue('#proxy-form [name="name"]'), name);
		assert.equal(await page.inputValue('#proxy-form [name="address"]'), 'bad address');
		assert.equal(await page.inputValue('#proxy-form [name="protocol"]'), 'socks5');
		assert.equal(await page.inputValue('#proxy-form [name="username"]'), 'bob');
		assert.equal(await page.inputValue('#proxy-form [name="password"]'), '');
		assert.equal(await page.isChecked('#proxy-form #isEnabled'), false);
		assert.deepEqual(await visibleBoxes(page), []);
		// The address no longer holds the failure.
		const u = new URL(page.url());
		assert.deepEqual([...u.searchParams.keys()].filter((k) => /^(error|message|form|field\.|value\.)/.test(k)), []);
		assert.equal(u.hash, '');
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('a campaign form posted without its script comes back in its own type, filled', async () => {
	const { page, track } = await open(browser.ctx, url('campaigns.html'));
	try {
		await page.selectOption('#campaign-type', 'gen');
		await page.fill('#form-gen [name="name"]', 'kept name');
		await page.fill('#form-gen [name="domainGenerationParams.variableLength"]', '99');
		await page.fill('#form-gen [name="domainGenerationParams.characterSet"]', 'xyz');
		await postNatively(page, '#form-gen');
		await page.waitForSelector('#form-gen .field-error[data-path="domainGenerationParams.variableLength"]', { timeout: 5000 });
		assert.equal(await page.isVisible('#form-gen'), true);
		assert.equal(await page.inputValue('#form-gen [name="name"]'), 'kept name');
		assert.equal(await page.inputValue('#form-gen [name="domainGenerationParams.characterSet"]'), 'xyz');
		assert.equal(await page.inputValue('#form-gen [name="domainGenerationParams.variableLength"]'), '99');
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('a persona form posted without its script comes back on its own tab, filled', async () => {
	const { page, track } = await open(browser.ctx, url('personas.html?personaType=http'));
	try {
		const name = uniq('Agentless');
		await page.fill('#form-http [name="name"]', name);
		await page.fill('#form-http [name="configDetails.userAgent"]', '');
		await postNatively(page, '#form-http');
		await page.waitForSelector('#form-http .field-error[data-path="configDetails.userAgent"]', { timeout: 5000 });
		assert.equal(await page.isVisible('#form-http'), true);
		assert.equal(await page.isVisible('#form-dns'), false);
		assert.equal(await page.inputValue('#form-http [name="name"]'), name);
		assert.equal(new URL(page.url()).searchParams.get('personaType'), 'http');
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('a keyword set posted without its script comes back with its rules and the regex error at its rule', async () => {
	const { page, track } = await open(browser.ctx, url('keyword-sets.html'));
	try {
		const name = uniq('Rules kept');
		await page.fill('#ks-form [name="name"]', name);
		await page.click('#add-rule');
		await page.fill('#ks-form [name="rules[0].pattern"]', 'plain words');
		await page.click('#add-rule');
		await page.fill('#ks-form [name="rules[1].pattern"]', '(unclosed');
		await page.selectOption('#ks-form [name="rules[1].ruleType"]', 'regex');
		await page.check('#ks-form [name="rules[1].isCaseSensitive"][type="checkbox"]');
		await postNatively(page, '#ks-form');
		await page.waitForSelector('#ks-form .field-error[data-path="rules[1].pattern"]', { timeout: 5000 });
		assert.equal(await page.inputValue('#ks-form [name="name"]'), name);
		assert.equal(await page.$$eval('#ks-form .rule-row', (r) => r.length), 2);
		assert.equal(await page.inputValue('#ks-form [name="rules[0].pattern"]'), 'plain words');
		assert.equal(await page.inputValue('#ks-form [name="rules[1].pattern"]'), '(unclosed');
		assert.equal(await page.inputValue('#ks-form [name="rules[1].ruleType"]'), 'regex');
		assert.equal(await page.isChecked('#ks-form [name="rules[1].isCaseSensitive"][type="checkbox"]'), true);
		assert.equal(await page.isChecked('#ks-form [name="rules[0].isCaseSensitive"][type="checkbox"]'), false);

		// Fixed and sent with JavaScript: created with both rules, not three.
		await page.fill('#ks-form [name="rules[1].pattern"]', '(closed)');
		const [res] = await Promise.all([
			page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/keyword-sets')),
			page.click('#ks-form button[type="submit"]'),
		]);
		assert.equal(res.status(), 201, await res.text());
		assert.deepEqual((await res.json()).rules.map((r) => r.pattern), ['plain words', '(closed)']);
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('removing a rule while editing a keyword set saves the set without it', async () => {
	const ks = await post('keyword-sets', { name: uniq('Three rules'), rules: ['a', 'b', 'c'].map((p) => ({ pattern: p, ruleType: 'string' })) });
	const { page, track } = await open(browser.ctx, url('keyword-sets.html'));
	try {
		await page.waitForSelector(sel(ks.id), { state: 'attached', timeout: 5000 });
		await page.click(`${sel(ks.id)} [data-key="edit"]`);
		await page.waitForSelector('#ks-form .rule-row:nth-child(3)');
		await page.click('#ks-form .rule-row:nth-child(3) button.btn-danger');
		const [res] = await Promise.all([
			page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(`/api/keyword-sets/${ks.id}`)),
			page.click('#ks-form button[type="submit"]'),
		]);
		assert.equal(res.status(), 200, await res.text());
		assert.deepEqual((await get(`/api/keyword-sets/${ks.id}`)).rules.map((r) => r.pattern), ['a', 'b']);
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('a failure that belongs to no form on the page is shown at the top; a link from elsewhere shows nothing', async () => {
	const { page } = await open(browser.ctx, url('personas.html'));
	try {
		// A one-button form posted without its script (a delete of a record gone meanwhile).
		await page.evaluate(() => {
			const f = document.createElement('form');
			f.method = 'post';
			f.action = '/api/personas/00000000-0000-4000-8000-000000000000';
			// As actionForm builds it: the script runs and takes the failure.
			f.innerHTML = '<input type="hidden" name="_method" value="DELETE"><input type="hidden" name="_script" value="1">';
			document.body.append(f);
		});
		await postNatively(page, 'body > form:last-of-type');
		const box = await page.waitForSelector('#page-error', { timeout: 5000 });
		assert.match(await box.textContent(), /\S/);
	} finally {
		await page.close();
	}
	const forged = await browser.ctx.newPage();
	try {
		await forged.goto(url('personas.html?error=x&message=Call%20this%20number'));
		await forged.waitForSelector('#conn[data-state="live"]', { state: 'attached', timeout: 20000 });
		assert.equal(await forged.$('#page-error'), null);
		assert.ok(!(await forged.textContent('main')).includes('Call this number'));
	} finally {
		await forged.close();
	}
});

/* noScript opens a context with JavaScript off, as a browser without it. */
async function noScript() {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'fp-nojs-'));
	const ctx = await chromium.launchPersistentContext(dir, {
		executablePath: CHROMIUM, headless: true, args: ARGS, javaScriptEnabled: false, timeout: 60000,
	});
	return {
		ctx,
		async close() {
			await ctx.close().catch(() => {});
			await rm(dir, { recursive: true, force: true });
		},
	};
}

/* submitAndWait clicks a submit button and returns the answer the page
 * navigated to. */
async function submitAndWait(page, button) {
	const [res] = await Promise.all([page.waitForNavigation(), page.click(button)]);
	return res;
}

test('without JavaScript a failed form shows its reason on a "Not saved" page, and Back gives the form back as typed', async () => {
	const b = await noScript();
	try {
		const page = await b.ctx.newPage();
		await page.goto(url('proxies.html'));
		assert.equal(await page.isVisible('#proxy-form-failed'), false);
		const name = uniq('No script');
		await page.fill('#proxy-form [name="name"]', name);
		await page.fill('#proxy-form [name="address"]', 'bad address');
		await page.selectOption('#proxy-form [name="protocol"]', 'socks5');
		await page.fill('#proxy-form [name="username"]', 'bob');
		await page.fill('#proxy-form [name="password"]', 'hunter2-secret');
		await page.fill('#proxy-form [name="description"]', 'typed <b>by hand</b>');
		await page.uncheck('#proxy-form #isEnabled');
		const res = await submitAndWait(page, '#proxy-form button[type="submit"]');

		// The reason, on screen, in the console's look.
		assert.equal(res.status(), 422);
		assert.equal(await page.title(), 'Not saved · flowpush');
		assert.equal(await page.isVisible('#failure-message'), true);
		assert.match(await page.textContent('#failure-message'), /\S/);
		assert.equal(await page.isVisible('#failure-fields li[data-path="address"]'), true);
		assert.match(await page.textContent('#failure-fields li[data-path="address"]'), /host:port/);
		assert.match(await page.textContent('main'), /Back/);
		assert.ok(!(await page.content()).includes('hunter2'));
		assert.equal(await page.$eval('.top', (e) => getComputedStyle(e).backgroundColor), 'rgb(20, 26, 41)',
			'the console\'s stylesheet is applied');
		for (const width of [1280, 390]) {
			await page.setViewportSize({ width, height: 800 });
			const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
			assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at ${width}`);
		}

		// Back: the form holds what was typed (but the password).
		await page.goBack();
		const u = new URL(page.url());
		assert.equal(u.pathname, '/proxies.html');
		assert.equal(u.searchParams.get('error'), null);
		assert.equal(await page.inputValue('#proxy-form [name="name"]'), name);
		assert.equal(await page.inputValue('#proxy-form [name="address"]'), 'bad address');
		assert.equal(await page.inputValue('#proxy-form [name="protocol"]'), 'socks5');
		assert.equal(await page.inputValue('#proxy-form [name="username"]'), 'bob');
		assert.equal(await page.inputValue('#proxy-form [name="description"]'), 'typed <b>by hand</b>');
		assert.equal(await page.isChecked('#proxy-form #isEnabled'), false);
		assert.equal(await page.inputValue('#proxy-form [name="password"]'), '');

		// Corrected and sent again: saved with what was kept.
		const addr = address();
		await page.fill('#proxy-form [name="address"]', addr);
		const ok = await submitAndWait(page, '#proxy-form button[type="submit"]');
		assert.equal(ok.status(), 200);
		assert.equal(new URL(page.url()).pathname, '/proxies.html');
		const got = (await get(`/api/proxies?q=${encodeURIComponent(name)}`)).items;
		assert.equal(got.length, 1);
		assert.deepEqual([got[0].address, got[0].protocol, got[0].username, got[0].description, got[0].isEnabled, got[0].hasPassword],
			[addr, 'socks5', 'bob', 'typed <b>by hand</b>', false, false]);
	} finally {
		await b.close();
	}
});

test('without JavaScript the "Not saved" page links to the form\'s notice on its page', async () => {
	const b = await noScript();
	try {
		const page = await b.ctx.newPage();
		await page.goto(url('campaigns.html'));
		assert.equal(await page.isVisible('#form-gen-failed'), false);
		await page.fill('#form-gen [name="name"]', uniq('No script'));
		await page.fill('#form-gen [name="domainGenerationParams.tld"]', 'not a suffix');
		const res = await submitAndWait(page, '#form-gen button[type="submit"]');
		assert.equal(res.status(), 422);
		assert.equal(await page.isVisible('#failure-fields li[data-path="domainGenerationParams.tld"]'), true);
		await Promise.all([page.waitForNavigation(), page.click('#failure-back')]);
		const u = new URL(page.url());
		assert.equal(u.pathname, '/campaigns.html');
		assert.equal(u.hash, '#form-gen-failed');
		assert.equal(await page.isVisible('#form-gen-failed'), true);
		assert.match(await page.textContent('#form-gen-failed'), /Not saved/);
		// Other forms' notices stay hidden.
		assert.equal(await page.isVisible('#form-dnsv-failed'), false);
	} finally {
		await b.close();
	}
});

test('a form posted before its script ran gets the "Not saved" page, whose link brings the page back filled', async () => {
	const { page, track } = await open(browser.ctx, url('proxies.html'));
	try {
		assert.ok(await page.$('#proxy-form input[name="_script"][value="1"]'), 'the script marks its forms');
		const name = uniq('Early post');
		await page.fill('#proxy-form [name="name"]', name);
		await page.fill('#proxy-form [name="address"]', 'bad address');
		await page.$eval('#proxy-form input[name="_script"]', (e) => e.remove());
		await postNatively(page, '#proxy-form');
		assert.equal(await page.title(), 'Not saved · flowpush');
		await Promise.all([page.waitForNavigation(), page.click('#failure-back')]);
		await page.waitForSelector('#proxy-form .field-error[data-path="address"]', { timeout: 5000 });
		assert.equal(await page.inputValue('#proxy-form [name="name"]'), name);
		assert.equal(await page.inputValue('#proxy-form [name="address"]'), 'bad address');
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});

test('at 390 px every navigation item is in view on every page', async () => {
	for (const name of ['index', 'campaigns', 'keyword-sets', 'proxy-pools']) {
		const { page } = await open(browser.ctx, url(`${name}.html`));
		try {
			await page.setViewportSize({ width: 390, height: 800 });
			const boxes = await page.$$eval('.top nav a', (els) => els.map((a) => {
				const r = a.getBoundingClientRect();
				return { text: a.textContent, left: r.left, right: r.right, width: r.width, full: a.scrollWidth <= a.clientWidth };
			}));
			assert.equal(boxes.length, 6);
			for (const b of boxes) {
				assert.ok(b.left >= 0 && b.right <= 390, `${name}: “${b.text}” is out of view (${b.left}–${b.right})`);
				assert.ok(b.full, `${name}: “${b.text}” is cut`);
			}
			const nav = await page.$eval('.top nav', (n) => n.scrollWidth - n.clientWidth);
			assert.ok(nav <= 0, `${name}: the navigation hides ${nav} px`);
		} finally {
			await page.close();
		}
	}
});

test('proxy health has one vocabulary: healthy, failing, unchecked on the table, the pool cards and the dashboard', async () => {
	const ok = await post('proxies', { name: uniq('Px ok'), address: address(), protocol: 'http' });
	await stack.curl('PATCH', `/api/proxies/${ok.id}`, { isHealthy: true });
	const bad = await post('proxies', { name: uniq('Px bad'), address: address(), protocol: 'http', isHealthy: false });
	const never = await post('proxies', { name: uniq('Px never'), address: address(), protocol: 'http' });
	const off = await post('proxies', { name: uniq('Px off'), address: address(), protocol: 'http', isEnabled: false });
	const pool = await post('proxy-pools', { name: uniq('Health pool'), members: [ok, bad, never, off].map((p) => ({ proxyId: p.id })) });
	const want = { [ok.id]: 'healthy', [bad.id]: 'failing', [never.id]: 'unchecked', [off.id]: 'unchecked' };

	const px = await open(browser.ctx, url('proxies.html?limit=200'));
	try {
		for (const [id, word] of Object.entries(want)) {
			const row = await px.page.waitForSelector(`${sel(id)}`, { state: 'attached', timeout: 5000 });
			assert.equal(await row.getAttribute('data-health'), word);
			assert.equal(await px.page.textContent(`${sel(id)} [data-health]`), word);
		}
		assert.match(await px.page.textContent(`${sel(off.id)} td[data-label="Health"]`), /disabled/);
		assert.doesNotMatch(await px.page.textContent('#list'), /Active|Failed/);
	} finally {
		await px.page.close();
	}

	const pp = await open(browser.ctx, url('proxy-pools.html'));
	try {
		for (const [id, word] of Object.entries(want)) {
			const b = `${sel(pool.id)} [data-member="${id}"] [data-health]`;
			await pp.page.waitForSelector(b, { state: 'attached', timeout: 5000 });
			assert.equal(await pp.page.textContent(b), word);
		}
	} finally {
		await pp.page.close();
	}

	const dash = await open(browser.ctx, url('index.html'));
	try {
		const d = await get('/api/dashboard');
		assert.equal(d.proxies.healthy + d.proxies.failing + d.proxies.unchecked, d.proxies.total);
		const sub = await dash.page.textContent('[data-stat="proxies"] [data-sub]');
		assert.match(sub, new RegExp(`${d.proxies.healthy} healthy · ${d.proxies.failing} failing · ${d.proxies.unchecked} unchecked`));
	} finally {
		await dash.page.close();
	}
});

test('pool member rows line up in every card at 1280 and 390 px', async () => {
	const names = ['Tokyo backup', 'Frankfurt datacenter with a long name', 'Amsterdam residential', 'V'];
	const pxs = [];
	for (const [i, n] of names.entries())
		pxs.push(await post('proxies', { name: uniq(n), address: address(), protocol: 'http', isEnabled: i !== 0 }));
	const pools = [
		await post('proxy-pools', { name: uniq('Mixed'), members: pxs.map((p, i) => ({ proxyId: p.id, weight: i + 1 })) }),
		await post('proxy-pools', { name: uniq('Short'), members: [pxs[0], pxs[3]].map((p) => ({ proxyId: p.id, weight: 100000 })) }),
	];
	const { page, track } = await open(browser.ctx, url('proxy-pools.html'));
	try {
		for (const width of [1280, 390]) {
			await page.setViewportSize({ width, height: 900 });
			for (const pool of pools) {
				// Wait until every member is named (its proxy was read).
				await page.waitForFunction((s) => {
					const names = [...document.querySelectorAll(`${s} [data-member] .name`)];
					return names.length && names.every((n) => !n.textContent.includes('…'));
				}, sel(pool.id), { timeout: 5000 });
				const rows = await page.$$eval(`${sel(pool.id)} [data-member]`, (lis) => lis.map((li) => {
					const x = (s) => Math.round(li.querySelector(s).getBoundingClientRect().left);
					// The controls sit on their own line, under the name and health.
					const below = li.querySelector('input[type="number"]').getBoundingClientRect().top >=
						Math.max(...[...li.children].slice(0, 2).map((c) => c.getBoundingClientRect().bottom)) - 1;
					return { weight: x('input[type="number"]'), active: x('input[type="checkbox"]'), remove: x('button'), below };
				}));
				for (const k of ['weight', 'active', 'remove', 'below'])
					assert.equal(new Set(rows.map((r) => r[k])).size, 1, `${width} px: ${k} differs between rows: ${JSON.stringify(rows)}`);
				assert.equal(rows[0].below, true);
			}
		}
		assert.deepEqual(track.errors, []);
	} finally {
		await page.close();
	}
});
