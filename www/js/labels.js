// labels.js - referenced records by id (GET /api/{c}?ids=), kept live from their topic's events.

import { api } from './api.js';

const IDS_MAX = 100;   // the API's limit (docs/LISTS.md)

/*
 * labelSource(collection) holds the records a page refers to by id (a
 * pool's proxies, a campaign's source campaign): want(ids) asks for the
 * ones not held yet, in one request per frame (at most 100 ids each);
 * onEvent(ev) keeps the held ones current. Events that arrive while a
 * request is on its way are held and replayed when they are newer than
 * its answer, so a name never goes back to an older one. onChange(fn) is
 * told (once per answer or event) when a held record changed.
 */
export function labelSource(collection) {
	const recs = new Map();     // id -> record, or null when it does not exist
	const pending = new Set();
	const listeners = new Set();
	let held = null;            // events while a request is on its way
	let timer = null;
	let seq = 0;

	function changed() {
		for (const fn of listeners) fn();
	}

	async function fetchPending() {
		timer = null;
		const ids = [...pending].slice(0, IDS_MAX);
		for (const id of ids) pending.delete(id);
		if (!ids.length) return;
		held = held || [];
		try {
			const qs = new URLSearchParams({ ids: ids.join(','), limit: String(IDS_MAX) });
			const answer = await api.get(`/api/${collection}?${qs}`);
			const got = new Map((answer.items || []).map((r) => [r.id, r]));
			for (const id of ids) {
				const old = recs.get(id);
				const rec = got.get(id) || null;
				if (!old || !rec || Number(rec.version) > Number(old.version)) recs.set(id, rec);
			}
			const q = held;
			held = null;
			seq = Math.max(seq, Number(answer.seq) || 0);
			for (const ev of q) if (ev.seq > (Number(answer.seq) || 0)) apply(ev);
			changed();
		} catch {
			// Try these again later; meanwhile the page shows the ids.
			const q = held;
			held = null;
			for (const ev of q) apply(ev);
			for (const id of ids) pending.add(id);
			timer = setTimeout(fetchPending, 5000);
			return;
		}
		if (pending.size) schedule();
	}

	function schedule() {
		if (!timer && !held) timer = setTimeout(fetchPending, 0);
	}

	function apply(ev) {
		if (!recs.has(ev.id)) return false;
		const old = recs.get(ev.id);
		if (ev.action === 'deleted') {
			if (old === null) return false;
			recs.set(ev.id, null);
			return true;
		}
		if (!ev.data || (old && Number(old.version) >= Number(ev.version))) return false;
		recs.set(ev.id, ev.data);
		return true;
	}

	return {
		topic: collection,
		/* want asks for ids not held yet; answers whether all are held. */
		want(ids) {
			let all = true;
			for (const id of ids) {
				if (!id || recs.has(id)) continue;
				all = false;
				pending.add(id);
			}
			if (!all) schedule();
			return all;
		},
		/* get: the record, null when it does not exist, undefined while unknown. */
		get: (id) => recs.get(id),
		onChange(fn) {
			listeners.add(fn);
			return () => listeners.delete(fn);
		},
		onEvent(ev) {
			if (ev.topic !== collection) return;
			if (held) {
				held.push(ev);
				return;
			}
			if (apply(ev)) changed();
		},
		/* reset forgets everything (after a reset of the journal). */
		reset() {
			const ids = [...recs.keys()];
			recs.clear();
			this.want(ids);
		},
	};
}
