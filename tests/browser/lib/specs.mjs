// specs.mjs - per collection: a valid record, a change, and how a person does both through its page's forms.

import assert from 'node:assert/strict';

let n = 0;
export const uniq = (prefix) => `${prefix} ${process.pid}-${++n}-${Date.now() % 100000}`;
let addr = 0;
const address = () => { addr++; return `10.${(process.pid % 200) + 1}.${(addr >> 8) & 255}.${addr & 255}:3128`; };

const sel = (id) => `[data-id="${id}"]`;

/* submitAndWait clicks and resolves with the JSON answer of the API call
 * that the click makes (method, path suffix). */
async function submitAndWait(page, selector, method, pathRe) {
	const [res] = await Promise.all([
		page.waitForResponse((r) => r.request().method() === method && pathRe.test(new URL(r.url()).pathname), { timeout: 10000 }),
		page.click(selector),
	]);
	if (res.status() >= 300) assert.fail(`${method} answered ${res.status()}: ${await res.text()}`);
	return res.status() === 204 ? null : res.json();
}

async function editDescription(page, form, id, coll, method = 'PUT') {
	await page.click(`${sel(id)} [data-key="edit"]`);
	await page.fill(`${form} [name="description"]`, `changed by a form ${Date.now()}`);
	return submitAndWait(page, `${form} button[type="submit"]`, method, new RegExp(`/api/${coll}/${id}$`));
}

async function deleteByButton(page, id, coll) {
	return submitAndWait(page, `${sel(id)} [data-key="delete"]`, 'DELETE', new RegExp(`/api/${coll}/${id}$`));
}

export const SPECS = {
	personas: {
		page: 'personas.html',
		body: () => ({ name: uniq('Persona'), personaType: 'dns', description: 'made by a test', configDetails: { resolvers: ['9.9.9.9:53'] } }),
		patch: () => ({ description: `changed ${Date.now()}` }),
		form: {
			async create(page) {
				await page.fill('#form-dns [name="name"]', uniq('Form persona'));
				await page.fill('#form-dns input[name="configDetails.resolvers"]', '9.9.9.9');
				return submitAndWait(page, '#form-dns button[type="submit"]', 'POST', /\/api\/personas$/);
			},
			update: (page, rec) => editDescription(page, '#form-dns', rec.id, 'personas'),
			remove: (page, rec) => deleteByButton(page, rec.id, 'personas'),
		},
	},
	'keyword-sets': {
		page: 'keyword-sets.html',
		body: () => ({ name: uniq('Keywords'), rules: [{ pattern: 'buy now', ruleType: 'string' }] }),
		patch: () => ({ description: `changed ${Date.now()}` }),
		form: {
			async create(page) {
				await page.fill('#ks-form [name="name"]', uniq('Form keywords'));
				await page.click('#add-rule');
				await page.fill('#rules input[name="rules[0].pattern"]', 'sale');
				return submitAndWait(page, '#ks-form button[type="submit"]', 'POST', /\/api\/keyword-sets$/);
			},
			update: (page, rec) => editDescription(page, '#ks-form', rec.id, 'keyword-sets'),
			remove: (page, rec) => deleteByButton(page, rec.id, 'keyword-sets'),
		},
	},
	proxies: {
		page: 'proxies.html',
		body: () => ({ name: uniq('Proxy'), address: address(), protocol: 'http' }),
		patch: () => ({ latencyMs: 10 + (Date.now() % 500), isHealthy: true }),
		form: {
			async create(page) {
				await page.fill('#proxy-form [name="name"]', uniq('Form proxy'));
				await page.fill('#proxy-form [name="address"]', address());
				return submitAndWait(page, '#proxy-form button[type="submit"]', 'POST', /\/api\/proxies$/);
			},
			update: (page, rec) => editDescription(page, '#proxy-form', rec.id, 'proxies', 'PATCH'),
			remove: (page, rec) => deleteByButton(page, rec.id, 'proxies'),
		},
	},
	'proxy-pools': {
		page: 'proxy-pools.html',
		body: () => ({ name: uniq('Pool') }),
		patch: () => ({ poolStrategy: 'random' }),
		form: {
			async create(page) {
				await page.fill('#pool-form [name="name"]', uniq('Form pool'));
				return submitAndWait(page, '#pool-form button[type="submit"]', 'POST', /\/api\/proxy-pools$/);
			},
			update: (page, rec) => editDescription(page, '#pool-form', rec.id, 'proxy-pools', 'PATCH'),
			remove: (page, rec) => deleteByButton(page, rec.id, 'proxy-pools'),
		},
	},
	campaigns: {
		page: 'campaigns.html',
		body: () => ({
			name: uniq('Campaign'), campaignType: 'domain_generation', totalItems: 1000,
			domainGenerationParams: { patternType: 'prefix', variableLength: 3, characterSet: 'abc', tld: '.com' },
		}),
		patch: () => ({ description: `changed ${Date.now()}` }),
		form: {
			async create(page) {
				await page.selectOption('#campaign-type', 'gen');
				await page.fill('#form-gen [name="name"]', uniq('Form campaign'));
				await page.fill('#form-gen [name="totalItems"]', '1000');
				return submitAndWait(page, '#form-gen button[type="submit"]', 'POST', /\/api\/campaigns$/);
			},
			// The campaign's change by form is an action button: Start.
			update: (page, rec) => submitAndWait(page, `${sel(rec.id)} [data-key="start"]`, 'POST', new RegExp(`/api/campaigns/${rec.id}/start$`)),
			async remove(page, rec) {
				await submitAndWait(page, `${sel(rec.id)} [data-key="cancel"]`, 'POST', new RegExp(`/api/campaigns/${rec.id}/cancel$`));
				await page.waitForSelector(`${sel(rec.id)}[data-status="cancelled"] [data-key="delete"]`);
				return deleteByButton(page, rec.id, 'campaigns');
			},
		},
	},
};
