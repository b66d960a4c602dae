// window.js - one window of a list (search, sort, filters, cursor) kept exact by live events; pure, no DOM, no fetch.

/*
 * What the API lists (docs/LISTS.md, "Per collection"): the fields a search
 * reads, the fields a list sorts by and the filter fields with their values.
 */
const BOOL = ['true', 'false'];
const STATUSES = ['pending', 'queued', 'running', 'paused', 'completed', 'failed', 'cancelled', 'archived'];
export const LISTS = Object.freeze({
	campaigns: {
		search: ['name', 'description'],
		sort: ['name', 'createdAt', 'updatedAt', 'status', 'progressPercentage'],
		filters: {
			campaignType: ['domain_generation', 'dns_validation', 'http_keyword_validation'],
			status: STATUSES,
		},
	},
	personas: {
		search: ['name', 'description'],
		sort: ['name', 'createdAt', 'updatedAt', 'personaType'],
		filters: { personaType: ['dns', 'http'], isEnabled: BOOL },
	},
	'keyword-sets': {
		search: ['name', 'description'],
		sort: ['name', 'createdAt', 'updatedAt', 'ruleCount'],
		filters: { isEnabled: BOOL },
	},
	proxies: {
		search: ['name', 'description', 'address'],
		sort: ['name', 'createdAt', 'updatedAt', 'countryCode', 'latencyMs'],
		filters: { protocol: ['http', 'https', 'socks4', 'socks5'], isEnabled: BOOL, isHealthy: BOOL },
	},
	'proxy-pools': {
		search: ['name', 'description'],
		sort: ['name', 'createdAt', 'updatedAt'],
		filters: { isEnabled: BOOL, poolStrategy: ['round_robin', 'random', 'least_used', 'weighted'] },
	},
});

export const DEFAULT_SORT = '-createdAt';
export const Q_MIN = 3;

/* foldAscii lowercases A-Z only, as the server's search text and NOCASE
 * order do (common/listq.c listq_fold_ascii): "É" stays "É". */
export function foldAscii(s) {
	return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

const isSurrogate = (c) => c >= 0xd800 && c <= 0xdfff;

/*
 * compareStrings orders two strings as the database does: ASCII letters
 * folded, then by Unicode code point (UTF-8 byte order). JavaScript's
 * own < compares UTF-16 units, which puts U+10000.. (surrogates,
 * 0xD800..) before U+E000..U+FFFF; a surrogate always stands for a code
 * point above every BMP character, so it sorts after them here.
 */
export function compareStrings(a, b) {
	const n = Math.min(a.length, b.length);
	for (let i = 0; i < n; i++) {
		let x = a.charCodeAt(i);
		let y = b.charCodeAt(i);
		if (x === y) continue;
		if (x >= 65 && x <= 90) x += 32;
		if (y >= 65 && y <= 90) y += 32;
		if (x === y) continue;
		const sx = isSurrogate(x);
		if (sx !== isSurrogate(y)) return sx ? 1 : -1;
		return x < y ? -1 : 1;
	}
	return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/* Values of different kinds order as SQLite orders them: numbers
 * (booleans are 0 and 1 there) before text. null is handled apart. */
function rank(v) {
	return typeof v === 'string' ? 1 : 0;
}

function compareValues(a, b) {
	if (typeof a === 'boolean') a = a ? 1 : 0;
	if (typeof b === 'boolean') b = b ? 1 : 0;
	const ra = rank(a);
	const rb = rank(b);
	if (ra !== rb) return ra < rb ? -1 : 1;
	if (ra === 1) return compareStrings(a, b);
	return a === b ? 0 : a < b ? -1 : 1;
}

/*
 * compareKeys orders two sort keys [value, id] for sort direction desc:
 * values as compareValues, null after every value ascending and before
 * every value descending, ties by id in the same direction. A key is an
 * array [value, id]; value undefined counts as null.
 */
export function compareKeys(ka, kb, desc = false) {
	const a = ka[0] === undefined ? null : ka[0];
	const b = kb[0] === undefined ? null : kb[0];
	let c;
	if (a === null || b === null) c = a === b ? 0 : a === null ? 1 : -1;
	else c = compareValues(a, b);
	if (c === 0) c = compareStrings(String(ka[1]), String(kb[1]));
	return desc ? -c : c;
}

/* parseSort reads "field" or "-field"; unknown fields give null. */
export function parseSort(sort, spec) {
	const s = sort || DEFAULT_SORT;
	const desc = s.startsWith('-');
	const field = s.replace(/^[-+]/, '');
	if (spec && !spec.sort.includes(field)) return null;
	return { field, desc };
}

/*
 * decodeCursor reads the position a cursor names: {key: [value, id]} or
 * null when it is not a cursor this client can read. The contract calls
 * cursors opaque; reading one is an optimisation (a window then knows
 * where it starts). Without it the window falls back to a fill whenever
 * a change could lie between the cursor and the first row shown.
 */
export function decodeCursor(cursor) {
	try {
		let b64 = String(cursor).replace(/-/g, '+').replace(/_/g, '/');
		while (b64.length % 4) b64 += '=';
		const bin = atob(b64);
		const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
		const a = JSON.parse(new TextDecoder().decode(bytes));
		if (!Array.isArray(a) || a.length !== 5 || typeof a[4] !== 'string') return null;
		if (!['n', 'i', 'r', 't'].includes(a[2])) return null;
		return { key: [a[2] === 'n' ? null : a[3], a[4]] };
	} catch {
		return null;
	}
}

/*
 * makeMatcher builds matches(record) for params {filters, q}: every
 * filter equal (booleans as "true"/"false"), and q (folded) a substring
 * of one of the searchable fields (folded), as the server's search text.
 */
export function makeMatcher(spec, { filters = {}, q = '' } = {}) {
	const fs = Object.entries(filters).filter(([, v]) => v !== '' && v !== null && v !== undefined);
	const needle = q && q.length ? foldAscii(q) : '';
	const search = spec ? spec.search : [];
	return function matches(r) {
		if (!r) return false;
		for (const [k, v] of fs) {
			const x = r[k];
			if (x === null || x === undefined || String(x) !== String(v)) return false;
		}
		if (!needle) return true;
		for (const f of search) {
			const t = r[f];
			if (typeof t === 'string' && foldAscii(t).includes(needle)) return true;
		}
		return false;
	};
}

const GONE_MAX = 4096;

/*
 * LiveWindow is one window of a collection: the rows the API answered
 * for params and anchor, kept equal to what the API would answer now.
 *
 *   params: {sort: "-createdAt", filters: {status: "running"}, q: ""}
 *   anchor: null (the first page), {after: cursor} or {before: cursor}
 *   limit: rows per page.
 *
 * The window of anchor "after C" is the first `limit` matching rows whose
 * key comes after C's key; "before C", the last `limit` rows before it;
 * no anchor, the first `limit` rows.
 *
 * It holds `rows`: a run of matching rows in key order that starts at the
 * anchor and is known to be contiguous (no matching row between two of
 * them); the window is its first `limit` rows ("before": its last). Rows
 * pushed beyond the window by inserts stay in the run (up to `limit` more),
 * so a row that later leaves the window is replaced without a request;
 * `farUnknown` says rows may exist beyond the run that the page does not
 * know. Only when the window is short of rows and farUnknown holds is
 * there a gap: the next row is on the server.
 *
 * apply(ev) takes a journal event and answers {changed, fill, outside}:
 * changed when the rows or the total moved, fill when there is a gap,
 * outside when the event concerned a matching row not shown that a reload
 * from the first page would show. After a fill was asked for, events are
 * held until fillDone(answer) replaces the rows and replays the held
 * events newer than the answer; a second gap found then asks for one
 * more fill.
 */
export class LiveWindow {
	constructor({ collection, params = {}, anchor = null, limit = 50, spec = null }) {
		this.collection = collection;
		this.spec = spec || LISTS[collection] || { search: [], sort: [], filters: {} };
		this.params = { sort: params.sort || DEFAULT_SORT, filters: { ...(params.filters || {}) }, q: params.q || '' };
		const s = parseSort(this.params.sort, null);
		this.sortField = s.field;
		this.desc = s.desc;
		this.matches = makeMatcher(this.spec, this.params);
		this.limit = limit;
		this.setAnchor(anchor);
		this.rows = [];
		this.known = new Map();
		this.items = [];
		this.seq = 0;
		this.total = 0;
		this.totalIsLowerBound = false;
		this.farUnknown = false;
		this.nearMore = false;
		this.nextCursor = null;
		this.prevCursor = null;
		this.nextEdge = null;
		this.prevEdge = null;
		this.filling = false;
		this.held = [];
		this.local = new Map();  // id -> version applied from our own write
		this.gone = new Set();   // ids deleted, so a late answer cannot bring one back
		this.loaded = false;
	}

	setAnchor(anchor) {
		this.anchor = anchor && (anchor.after || anchor.before) ? { ...anchor } : null;
		this.dir = this.anchor && this.anchor.before ? 'before' : 'after';
		this.anchorKey = undefined;   // undefined: unknown; null: none (first page)
		if (!this.anchor) this.anchorKey = null;
		else {
			const d = decodeCursor(this.anchor.after || this.anchor.before);
			if (d) this.anchorKey = d.key;
		}
	}

	keyOf(r) {
		const v = r[this.sortField];
		return [v === undefined ? null : v, r.id];
	}

	cmp(a, b) {
		return compareKeys(a, b, this.desc);
	}

	/* get answers a record the window knows (shown or just beyond). */
	get(id) {
		return this.known.get(id);
	}

	/* byId: the records shown, by id. */
	get byId() {
		return new Map(this.items.map((r) => [r.id, r]));
	}

	/* hasNext / hasPrev: rows exist after the last / before the first shown. */
	get hasNext() {
		return this.dir === 'after' ? this.rows.length > this.limit || this.beyond() : this.nearMore;
	}

	get hasPrev() {
		return this.dir === 'before' ? this.rows.length > this.limit || this.beyond() : this.nearMore;
	}

	/* beyond: may matching rows exist past the run's far end? On a first
	 * page with an exact total the total says; elsewhere rows deleted out
	 * there leave no trace, so "maybe" stays until the next answer. */
	beyond() {
		if (this.anchorKey === null && !this.totalIsLowerBound) return this.total > this.rows.length;
		return this.farUnknown;
	}

	shown() {
		this.items = this.dir === 'after' ? this.rows.slice(0, this.limit)
			: this.rows.slice(Math.max(0, this.rows.length - this.limit));
	}

	/* edge identity of a row, to know whether the answer's cursor still
	 * names the row shown at that end. */
	edge(r) {
		return r ? { id: r.id, key: JSON.stringify(this.keyOf(r)) } : null;
	}

	/* load replaces the rows with an API answer for this window. */
	load(answer) {
		this.rows = (answer.items || []).slice();
		this.known = new Map(this.rows.map((r) => [r.id, r]));
		this.shown();
		this.seq = Number(answer.seq) || 0;
		this.total = Number(answer.total) || 0;
		this.totalIsLowerBound = Boolean(answer.totalIsLowerBound);
		this.nextCursor = answer.next || null;
		this.prevCursor = answer.prev || null;
		this.farUnknown = Boolean(this.dir === 'after' ? answer.next : answer.prev);
		this.nearMore = Boolean(this.dir === 'after' ? answer.prev : answer.next);
		this.nextEdge = this.edge(this.items[this.items.length - 1]);
		this.prevEdge = this.edge(this.items[0]);
		this.local.clear();
		this.loaded = true;
	}

	/* cursor answers the cursor that pages on from what is shown, or null
	 * when the rows at that end changed since the answer (then the window
	 * must be read again to get one). which: "next" | "prev". */
	cursor(which) {
		const next = which === 'next';
		const e = this.edge(next ? this.items[this.items.length - 1] : this.items[0]);
		const was = next ? this.nextEdge : this.prevEdge;
		const c = next ? this.nextCursor : this.prevCursor;
		const more = next ? this.hasNext : this.hasPrev;
		return more && c && e && was && e.id === was.id && e.key === was.key ? c : null;
	}

	/* inRange: is key on the window's side of the anchor? null = unknown. */
	inRange(key) {
		if (this.anchorKey === null) return true;
		if (this.anchorKey === undefined) {
			// Unknown anchor: a key beyond a row held is surely in range.
			if (!this.rows.length) return null;
			const near = this.dir === 'after' ? this.rows[0] : this.rows[this.rows.length - 1];
			const c = this.cmp(key, this.keyOf(near));
			if (this.dir === 'after' ? c > 0 : c < 0) return true;
			return null;
		}
		const c = this.cmp(key, this.anchorKey);
		return this.dir === 'after' ? c > 0 : c < 0;
	}

	/* position: the index where key belongs among rows (binary search). */
	position(key) {
		let lo = 0;
		let hi = this.rows.length;
		while (lo < hi) {
			const mid = (lo + hi) >> 1;
			if (this.cmp(this.keyOf(this.rows[mid]), key) < 0) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	}

	removeAt(i) {
		const [r] = this.rows.splice(i, 1);
		this.known.delete(r.id);
		return r;
	}

	indexOf(id) {
		const r = this.known.get(id);
		if (!r) return -1;
		const i = this.position(this.keyOf(r));
		if (this.rows[i] && this.rows[i].id === id) return i;
		return this.rows.findIndex((x) => x.id === id);
	}

	/* fits: does a matching, in-range key belong to the run (with the
	 * record itself already taken out)? */
	fits(key, othersBeyond) {
		if (!othersBeyond) return true;
		if (!this.rows.length) return false;
		const far = this.dir === 'after' ? this.rows[this.rows.length - 1] : this.rows[0];
		const c = this.cmp(key, this.keyOf(far));
		return this.dir === 'after' ? c < 0 : c > 0;
	}

	/* isShown: is rows[i] inside the window? */
	isShown(i) {
		return this.dir === 'after' ? i < this.limit : i >= this.rows.length - this.limit;
	}

	/*
	 * change applies a record's new state (rec, or null when deleted) with
	 * wasMatchOutside telling whether the old state matched (for records
	 * the window does not hold). Returns {changed, fill, outside}.
	 */
	change(id, rec, wasMatchOutside) {
		const res = { changed: false, fill: false, outside: false };
		const i = this.indexOf(id);
		const wasIn = i >= 0;
		const wasShown = wasIn && this.isShown(i);
		const wasMatch = wasIn || wasMatchOutside;
		const nowMatch = rec !== null && this.matches(rec);
		if (wasIn) this.removeAt(i);
		// Are there rows past the run other than this record? (A first
		// page knows from its total: every other matching row is held or
		// lies past the run.)
		const othersBeyond = this.anchorKey === null && !this.totalIsLowerBound
			? this.total - (wasMatch ? 1 : 0) - this.rows.length > 0 : this.farUnknown;
		if (nowMatch !== wasMatch) {
			this.total = Math.max(0, this.total + (nowMatch ? 1 : -1));
			res.changed = true;
		}
		let placed = -1;
		let range = false;
		if (nowMatch) {
			const key = this.keyOf(rec);
			range = this.inRange(key);
			if (range === null) {
				res.fill = true;        // cannot tell: read the window again
			} else if (range && this.fits(key, othersBeyond)) {
				placed = this.position(key);
				this.rows.splice(placed, 0, rec);
				this.known.set(rec.id, rec);
				if (this.rows.length > 2 * this.limit) {
					this.removeAt(this.dir === 'after' ? this.rows.length - 1 : 0);
					this.farUnknown = true;
				}
			} else if (range === false) {
				this.nearMore = true;
			}
		}
		const before = this.items;
		this.shown();
		if (wasShown || (placed >= 0 && this.items.includes(rec))) res.changed = true;
		else if (before.length !== this.items.length) res.changed = true;
		if (this.rows.length < this.limit && this.beyond()) res.fill = true;   // a gap
		// News for the "N new / changed" line: a matching row that is not
		// held and is not beyond the far end (a later page), on a window
		// that is not the first page (there, "show" would change nothing).
		if (!wasIn && placed < 0 && !res.fill && this.anchorKey !== null &&
		    (nowMatch ? range === false : wasMatch)) res.outside = true;
		return res;
	}

	/* apply takes one journal event of this collection. */
	apply(ev) {
		const none = { changed: false, fill: false, outside: false };
		if (!ev || ev.topic !== this.collection || !(ev.seq > this.seq)) return none;
		if (this.filling) {
			this.held.push(ev);
			return none;
		}
		this.seq = ev.seq;
		const id = ev.id;
		const v = Number(ev.version);
		const lv = this.local.get(id);
		if (lv !== undefined && v <= lv) {
			if (v === lv) this.local.delete(id);
			return none;
		}
		const held = this.known.get(id);
		if (held && ev.action !== 'deleted' && Number(held.version) >= v) return none;
		let res;
		if (ev.action === 'deleted') {
			this.forget(id);
			res = this.change(id, null, this.matches(ev.prev || {}));
		} else if (ev.data) {
			if (this.gone.has(id)) return none;
			const was = ev.action === 'created' ? false : this.matches({ ...ev.data, ...(ev.prev || {}) });
			res = this.change(id, ev.data, was);
		} else {
			return none;
		}
		if (res.fill) this.filling = true;
		return res;
	}

	forget(id) {
		this.gone.add(id);
		if (this.gone.size > GONE_MAX) this.gone.delete(this.gone.values().next().value);
	}

	/*
	 * upsert applies a record our own write got back, before its event:
	 * a row held, or a record just created. Other records wait for their
	 * event, which carries what the window needs (prev). The event is then
	 * skipped by its version.
	 */
	upsert(rec) {
		const none = { changed: false, fill: false, outside: false };
		if (!rec || !rec.id || this.filling || this.gone.has(rec.id)) return none;
		const held = this.known.get(rec.id);
		const v = Number(rec.version);
		if (held ? Number(held.version) >= v : (v !== 1 || this.local.has(rec.id))) return none;
		const res = this.change(rec.id, rec, false);
		this.local.set(rec.id, v);
		if (res.fill) this.filling = true;
		return res;
	}

	/* remove applies our own delete of a row held. */
	remove(id) {
		const none = { changed: false, fill: false, outside: false };
		if (this.filling || !this.known.has(id)) return none;
		const res = this.change(id, null, true);
		this.local.set(id, Infinity);
		this.forget(id);
		if (res.fill) this.filling = true;
		return res;
	}

	/* requestFill marks the window as to be read again (a stale cursor). */
	requestFill() {
		this.filling = true;
	}

	/*
	 * fillDone takes the answer of the fill: the rows are replaced and the
	 * events held meanwhile that the answer does not include are applied.
	 * Returns {changed, fill, outside} (fill: one more is needed).
	 */
	fillDone(answer) {
		const held = this.held;
		this.held = [];
		this.filling = false;
		this.load(answer);
		const out = { changed: true, fill: false, outside: 0 };
		for (const ev of held) {
			const r = this.apply(ev);
			if (r.outside) out.outside++;
		}
		out.fill = this.filling;
		return out;
	}

	/* query answers the URL parameters of this window (for the API). */
	query() {
		const qs = new URLSearchParams();
		if (this.params.q) qs.set('q', this.params.q);
		if (this.params.sort && this.params.sort !== DEFAULT_SORT) qs.set('sort', this.params.sort);
		for (const [k, v] of Object.entries(this.params.filters)) if (v !== '' && v !== null && v !== undefined) qs.set(k, v);
		if (this.anchor && this.anchor.after) qs.set('after', this.anchor.after);
		if (this.anchor && this.anchor.before) qs.set('before', this.anchor.before);
		qs.set('limit', String(this.limit));
		return qs;
	}
}
