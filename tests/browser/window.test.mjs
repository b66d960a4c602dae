// window.test.mjs - the pure live window of www/js/window.js: key order, matching, and random event streams against a brute-force model of the API.

import { test } from 'node:test';
import assert from 'node:assert/strict';

const {
	compareKeys, compareStrings, makeMatcher, decodeCursor, LiveWindow, foldAscii,
} = await import(new URL('../../www/js/window.js', import.meta.url));

/* ---- a reference order, written apart from the module: UTF-8 bytes of
 * the ASCII-folded text (what SQLite's memcmp on folded text does) ---- */

const fold = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
function refValue(a, b) {
	if (a === null && b === null) return 0;
	if (a === null) return 1;
	if (b === null) return -1;
	if (typeof a === 'boolean') a = Number(a);
	if (typeof b === 'boolean') b = Number(b);
	if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : a < b ? -1 : 1;
	if (typeof a === 'number') return -1;     // SQLite: numbers before text
	if (typeof b === 'number') return 1;
	return Math.sign(Buffer.compare(Buffer.from(fold(a)), Buffer.from(fold(b))));
}
function refKeys(ka, kb, desc) {
	let c = refValue(ka[0] ?? null, kb[0] ?? null);
	if (c === 0) c = Math.sign(Buffer.compare(Buffer.from(ka[1]), Buffer.from(kb[1])));
	return desc ? -c : c;
}

test('strings: ASCII letters fold, everything else by code point (not UTF-16, not locale)', () => {
	assert.equal(compareStrings('abc', 'ABC'), 0);
	assert.equal(compareStrings('Zed', 'alpha'), 1);             // z > a once folded
	assert.equal(compareStrings('_', 'a'), -1);                  // 0x5F < 0x61 (folded 'A' too)
	assert.equal(compareStrings('_', 'A'), -1);                  // unfolded 'A' (0x41) would sort before '_'
	assert.equal(compareStrings('É', 'é'), -1);                  // no folding beyond ASCII
	assert.equal(compareStrings('\u{1F600}', '\uE000'), 1);      // U+1F600 > U+E000, though its UTF-16 unit 0xD83D < 0xE000
	assert.equal(compareStrings('\uFFFF', '\u{10000}'), -1);
	assert.equal(compareStrings('a\u{1F600}', 'a\u{1F601}'), -1);
	assert.equal(compareStrings('ab', 'abc'), -1);
	assert.equal(compareStrings('', ''), 0);
	assert.equal(compareStrings('é', 'z'), 1);                   // not localeCompare
	assert.equal(foldAscii('ÀbC'), 'Àbc');
});

test('keys: numbers numeric, false < true, null last ascending and first descending, ties by id in the same direction', () => {
	assert.equal(compareKeys([9, 'a'], [10, 'a']), -1);          // not "10" < "9"
	assert.equal(compareKeys([2.5, 'a'], [2, 'b']), 1);
	assert.equal(compareKeys([false, 'b'], [true, 'a']), -1);
	assert.equal(compareKeys([null, 'a'], [0, 'b']), 1);
	assert.equal(compareKeys([null, 'a'], ['', 'b']), 1);
	assert.equal(compareKeys([null, 'a'], [0, 'b'], true), -1);
	assert.equal(compareKeys([null, 'a'], [null, 'b']), -1);
	assert.equal(compareKeys([null, 'a'], [null, 'b'], true), 1);
	assert.equal(compareKeys(['x', 'a'], ['X', 'b']), -1);       // equal values: by id
	assert.equal(compareKeys(['x', 'a'], ['X', 'b'], true), 1);  // ... in the same direction
	assert.equal(compareKeys([undefined, 'a'], [1, 'a']), 1);    // a missing value is null
	assert.equal(compareKeys(['2026-01-01T00:00:00.000Z', 'a'], ['2026-01-01T00:00:00.001Z', 'a']), -1);
	// Against the reference on many random pairs.
	const rnd = mulberry(7);
	for (let i = 0; i < 5000; i++) {
		const a = [randValue(rnd), randId(rnd)];
		const b = [randValue(rnd), randId(rnd)];
		const desc = rnd() < 0.5;
		assert.equal(compareKeys(a, b, desc), refKeys(a, b, desc), JSON.stringify([a, b, desc]));
	}
});

test('matches: filters by equality (booleans as text), q a folded substring of a searchable field', () => {
	const spec = { search: ['name', 'description'], sort: [], filters: {} };
	const m = makeMatcher(spec, { filters: { status: 'running', isEnabled: 'true' }, q: 'ALP' });
	assert.equal(m({ name: 'the alpha', status: 'running', isEnabled: true }), true);
	assert.equal(m({ name: 'x', description: 'Alpine', status: 'running', isEnabled: true }), true);
	assert.equal(m({ name: 'the alpha', status: 'paused', isEnabled: true }), false);
	assert.equal(m({ name: 'the alpha', status: 'running', isEnabled: false }), false);
	assert.equal(m({ name: 'the alpha', status: 'running' }), false);
	assert.equal(m({ name: 'beta', description: null, status: 'running', isEnabled: true }), false);
	assert.equal(m({ address: 'alp', name: 'b', status: 'running', isEnabled: true }), false, 'address is not searchable here');
	assert.equal(makeMatcher(spec, { q: 'éco' })({ name: 'ÉCOLE' }), false, 'non-ASCII letters are not folded');
	assert.equal(makeMatcher(spec, { q: 'éco' })({ name: 'lÉcole école' }), true);
	assert.equal(makeMatcher(spec, {})({ name: 'anything' }), true);
	assert.equal(makeMatcher(spec, { filters: { isHealthy: 'false' } })({ isHealthy: null }), false);
});

test('cursors: the key a server cursor names is read; anything else is unknown', () => {
	assert.deepEqual(decodeCursor(cursorOf('t', 'Ab\u{1F600}', ID(1))).key, ['Ab\u{1F600}', ID(1)]);
	assert.deepEqual(decodeCursor(cursorOf('n', null, ID(2))).key, [null, ID(2)]);
	assert.deepEqual(decodeCursor(cursorOf('r', 12.5, ID(3))).key, [12.5, ID(3)]);
	assert.equal(decodeCursor('not a cursor'), null);
	assert.equal(decodeCursor(''), null);
});

/* ---- the model: a collection, its journal, and the API's answers ---- */

function mulberry(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}
const PIECES = ['alpha', 'Alpha', 'ALPHA', 'beta', 'é', 'É', '\u{1F600}', '\uE000', 'zeta', 'Zed', 'a', '_', 'b'];
const ID = (n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
function randId(rnd) { return ID(Math.floor(rnd() * 1000)); }
function randName(rnd) {
	const n = 1 + Math.floor(rnd() * 2);
	let s = '';
	for (let i = 0; i < n; i++) s += PIECES[Math.floor(rnd() * PIECES.length)];
	return s;
}
function randValue(rnd) {
	const k = rnd();
	if (k < 0.15) return null;
	if (k < 0.45) return Math.floor(rnd() * 5) + (rnd() < 0.3 ? 0.5 : 0);
	if (k < 0.55) return rnd() < 0.5;
	return randName(rnd);
}
function cursorOf(type, value, id) {
	return Buffer.from(JSON.stringify([1, 'bind', type, value, id])).toString('base64url');
}
const typeOf = (v) => (v === null || v === undefined ? 'n' : typeof v === 'string' ? 't' : Number.isInteger(v) ? 'i' : 'r');

const SPEC = {
	search: ['name', 'description'],
	sort: ['name', 'createdAt', 'updatedAt', 'status', 'latencyMs'],
	filters: { status: ['running', 'paused', 'done'], isEnabled: ['true', 'false'] },
};
const SEARCH_FILTER = ['name', 'description', 'status', 'isEnabled'];

class Model {
	constructor(rnd) {
		this.rnd = rnd;
		this.rows = new Map();
		this.seq = 0;
		this.n = 0;
		this.clock = 0;
	}

	ts() { return `2026-01-01T00:${String(Math.floor(this.clock / 1000)).padStart(2, '0')}:00.${String(this.clock++ % 1000).padStart(3, '0')}Z`; }

	randomRecord(id) {
		const r = this.rnd;
		const at = this.ts();
		return {
			id, version: 1, createdAt: at, updatedAt: at,
			name: randName(r),
			description: r() < 0.3 ? null : randName(r),
			status: SPEC.filters.status[Math.floor(r() * 3)],
			isEnabled: r() < 0.6,
			latencyMs: r() < 0.25 ? null : Math.floor(r() * 6),
		};
	}

	create() {
		const rec = this.randomRecord(ID(++this.n));
		this.rows.set(rec.id, rec);
		return { seq: ++this.seq, topic: 'things', action: 'created', id: rec.id, version: 1, data: { ...rec } };
	}

	update() {
		const ids = [...this.rows.keys()];
		if (!ids.length) return this.create();
		const old = this.rows.get(ids[Math.floor(this.rnd() * ids.length)]);
		const fresh = this.randomRecord(old.id);
		const rec = { ...old, version: old.version + 1, updatedAt: this.ts() };
		for (const f of ['name', 'description', 'status', 'isEnabled', 'latencyMs']) if (this.rnd() < 0.35) rec[f] = fresh[f];
		const prev = {};
		for (const f of SEARCH_FILTER) if (rec[f] !== old[f]) prev[f] = old[f];
		this.rows.set(rec.id, rec);
		return { seq: ++this.seq, topic: 'things', action: 'updated', id: rec.id, version: rec.version, data: { ...rec }, prev };
	}

	remove() {
		const ids = [...this.rows.keys()];
		if (!ids.length) return this.create();
		const old = this.rows.get(ids[Math.floor(this.rnd() * ids.length)]);
		this.rows.delete(old.id);
		const prev = {};
		for (const f of SEARCH_FILTER) prev[f] = old[f];
		return { seq: ++this.seq, topic: 'things', action: 'deleted', id: old.id, version: old.version + 1, data: null, prev };
	}

	step() {
		const k = this.rnd();
		return k < 0.4 ? this.create() : k < 0.8 ? this.update() : this.remove();
	}

	/* answer: what GET would give for params, anchor {dir, key} and limit. */
	answer(params, anchor, limit) {
		const { field, desc } = params;
		const m = makeRefMatcher(params);
		const key = (r) => [r[field] ?? null, r.id];
		const all = [...this.rows.values()].filter(m).sort((a, b) => refKeys(key(a), key(b), desc));
		let from = 0;
		let to = Math.min(limit, all.length);
		if (anchor && anchor.dir === 'after') {
			from = all.findIndex((r) => refKeys(key(r), anchor.key, desc) > 0);
			if (from < 0) from = all.length;
			to = Math.min(from + limit, all.length);
		} else if (anchor && anchor.dir === 'before') {
			to = all.findIndex((r) => refKeys(key(r), anchor.key, desc) >= 0);
			if (to < 0) to = all.length;
			from = Math.max(0, to - limit);
		}
		const items = all.slice(from, to).map((r) => ({ ...r }));
		const cur = (r) => cursorOf(typeOf(r[field]), r[field] ?? null, r.id);
		return {
			items,
			next: to < all.length && items.length ? cur(items[items.length - 1]) : null,
			prev: from > 0 && items.length ? cur(items[0]) : null,
			seq: this.seq, total: all.length, totalIsLowerBound: false,
		};
	}
}

/* The model's own filter, written apart from makeMatcher. */
function makeRefMatcher({ status, isEnabled, q }) {
	return (r) => (status === undefined || r.status === status) &&
		(isEnabled === undefined || String(r.isEnabled) === isEnabled) &&
		(!q || ['name', 'description'].some((f) => typeof r[f] === 'string' && fold(r[f]).includes(fold(q))));
}

const VIEWS = [
	{ field: 'createdAt', desc: true },
	{ field: 'name', desc: false },
	{ field: 'name', desc: true, status: 'running' },
	{ field: 'latencyMs', desc: false },
	{ field: 'latencyMs', desc: true, isEnabled: 'true' },
	{ field: 'updatedAt', desc: true },
	{ field: 'status', desc: false, q: 'alp' },
	{ field: 'updatedAt', desc: false, status: 'paused', isEnabled: 'false' },
];

function makeWindow(view, anchor, limit, opaque) {
	const filters = {};
	if (view.status) filters.status = view.status;
	if (view.isEnabled) filters.isEnabled = view.isEnabled;
	let a = null;
	if (anchor) {
		const c = opaque ? `opaque-${anchor.key[1]}` : cursorOf(typeOf(anchor.key[0]), anchor.key[0], anchor.key[1]);
		a = { [anchor.dir]: c };
	}
	return new LiveWindow({
		collection: 'things', spec: SPEC, limit, anchor: a,
		params: { sort: `${view.desc ? '-' : ''}${view.field}`, filters, q: view.q || '' },
	});
}

const shown = (w) => w.items.map((r) => `${r.id}@${r.version}`);
const want = (ans) => ans.items.map((r) => `${r.id}@${r.version}`);

/*
 * run drives one window through `steps` random writes. After every event
 * the window equals the model's answer for its anchor, or it has asked
 * for exactly one fill; the fill is answered from a snapshot taken while
 * more events are still arriving (they are held and replayed).
 */
function run(seed, { steps = 300, limit = 4, anchorKind = 'none', opaque = false } = {}) {
	const rnd = mulberry(seed);
	const model = new Model(rnd);
	for (let i = 0; i < 25; i++) model.create();
	const view = VIEWS[seed % VIEWS.length];
	const params = { ...view };
	let anchor = null;
	if (anchorKind !== 'none') {
		const all = [...model.rows.values()];
		const r = all[Math.floor(rnd() * all.length)];
		anchor = { dir: anchorKind, key: [r[view.field] ?? null, r.id] };
	}
	const w = makeWindow(view, anchor, limit, opaque);
	w.load(model.answer(params, anchor, limit));
	const stats = { fills: 0, events: 0, inserts: 0, gaps: 0, outside: 0 };
	const journal = [];
	for (let i = 0; i < steps; i++) {
		const before = new Set(w.items.map((r) => r.id));
		const ev = model.step();
		journal.push(ev);
		stats.events++;
		if (ev.action === 'created' && w.matches(ev.data)) stats.inserts++;
		const res = w.apply(ev);
		if (res.outside) stats.outside++;
		// An old event delivered again changes nothing.
		if (journal.length > 3 && rnd() < 0.1) {
			const again = w.apply(journal[Math.floor(rnd() * (journal.length - 1))]);
			assert.equal(again.changed || again.fill, false, 'an event at or below the seq was applied again');
		}
		if (!res.fill) {
			assert.equal(w.filling, false);
			const ans = model.answer(params, anchor, limit);
			assert.deepEqual(shown(w), want(ans), `seed ${seed} step ${i} (${ev.action} ${ev.id}): window differs from the API's`);
			assert.equal(w.total, ans.total, `seed ${seed} step ${i}: total`);
			// More rows beyond the window are never missed; on a first page
			// (exact total) "more" is exact too. Elsewhere a row deleted
			// beyond the window leaves no trace: "maybe more" is allowed.
			const more = w.dir === 'after' ? w.hasNext : w.hasPrev;
			const truth = Boolean(w.dir === 'after' ? ans.next : ans.prev);
			if (!anchor) assert.equal(more, truth, `seed ${seed} step ${i}: whether a next page exists`);
			else if (truth) assert.equal(more, true, `seed ${seed} step ${i}: a further page exists but the window does not know`);
			continue;
		}
		// One fill, and only for a reason: a row shown left, or (unknown
		// anchor) a row that may lie between the anchor and the rows.
		stats.fills++;
		assert.ok(before.has(ev.id) || opaque, `seed ${seed} step ${i}: a fill without a row leaving the window`);
		if (before.has(ev.id)) stats.gaps++;
		assert.equal(w.filling, true);
		// Events arrive while the request is on its way; the answer's
		// snapshot is taken somewhere among them.
		const more = Math.floor(rnd() * 4);
		const snapAt = Math.floor(rnd() * (more + 1));
		let answer = snapAt === 0 ? model.answer(params, anchor, limit) : null;
		for (let j = 0; j < more; j++) {
			const e2 = model.step();
			journal.push(e2);
			const r2 = w.apply(e2);
			assert.equal(r2.fill || r2.changed, false, 'an event was applied while a fill was on its way');
			if (j + 1 === snapAt) answer = model.answer(params, anchor, limit);
		}
		let out = w.fillDone(answer);
		let rounds = 1;
		while (out.fill) {
			// A gap among the replayed events: exactly one more fill.
			assert.equal(w.filling, true);
			stats.fills++;
			out = w.fillDone(model.answer(params, anchor, limit));
			assert.ok(++rounds < 10);
		}
		const ans = model.answer(params, anchor, limit);
		assert.deepEqual(shown(w), want(ans), `seed ${seed} step ${i}: after the fill`);
		assert.equal(w.total, ans.total);
	}
	return stats;
}

test('random writes into a first page: always the API\'s window, fills only for gaps', () => {
	const sum = { fills: 0, gaps: 0, inserts: 0 };
	for (let seed = 1; seed <= 40; seed++) {
		const s = run(seed, { anchorKind: 'none', limit: 1 + (seed % 6) });
		sum.fills += s.fills;
		sum.gaps += s.gaps;
		sum.inserts += s.inserts;
	}
	assert.ok(sum.fills > 20, `the streams made too few gaps to test fills (${sum.fills})`);
	assert.ok(sum.inserts > 100);
});

test('random writes into a window after a cursor (page 2 and later)', () => {
	let outside = 0;
	for (let seed = 101; seed <= 140; seed++) outside += run(seed, { anchorKind: 'after', limit: 1 + (seed % 5) }).outside;
	assert.ok(outside > 0, 'no event counted as news outside the window');
});

test('random writes into a window before a cursor (paging back)', () => {
	for (let seed = 201; seed <= 240; seed++) run(seed, { anchorKind: 'before', limit: 1 + (seed % 5) });
});

test('a cursor the client cannot read: still exact, by fills', () => {
	for (let seed = 301; seed <= 320; seed++) run(seed, { anchorKind: seed % 2 ? 'after' : 'before', limit: 3, opaque: true });
});

test('own writes: the answer of a PATCH or DELETE shows at once and its event is not counted twice', () => {
	const rnd = mulberry(5);
	const model = new Model(rnd);
	for (let i = 0; i < 6; i++) model.create();
	const params = { field: 'createdAt', desc: true };
	const w = makeWindow(params, null, 10, false);
	w.load(model.answer(params, null, 10));
	const id = w.items[2].id;
	// A PATCH that takes the row out of the filter-less window's order.
	const ev = model.update();
	const rec = model.rows.get(ev.id);
	w.upsert({ ...rec });
	assert.equal(w.get(ev.id).version, rec.version);
	w.apply(ev);
	assert.deepEqual(shown(w), want(model.answer(params, null, 10)));
	// Our own DELETE: gone at once, total down once.
	const total = w.total;
	w.remove(id, w.get(id).version);
	assert.equal(w.get(id), undefined);
	assert.equal(w.total, total - 1);
	model.rows.delete(id);
	const del = { seq: ++model.seq, topic: 'things', action: 'deleted', id, version: 9, data: null, prev: { name: 'x', status: 'running', isEnabled: true } };
	w.apply(del);
	assert.equal(w.total, total - 1, 'the delete event counted the row a second time');
	// A late answer of an older write cannot bring the row back.
	w.upsert({ ...rec, id, version: 1 });
	assert.equal(w.get(id), undefined);
	// Our own create shows before its event, and the event adds nothing.
	const c = model.create();
	w.upsert(c.data);
	assert.ok(w.get(c.id));
	const t2 = w.total;
	w.apply(c);
	assert.equal(w.total, t2);
	assert.deepEqual(shown(w), want(model.answer(params, null, 10)));
});
