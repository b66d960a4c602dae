// collection.js - one collection's records kept current by events, by seq and version.

/*
 * A Collection holds the records of one topic as loaded at `seq` and
 * applies events to them in place. An event is ignored when its seq is at
 * or below the snapshot's seq, or when it names a version older than the
 * one shown (a late event after a newer answer of our own write). Deleted
 * ids are remembered so a late "updated" cannot bring a row back.
 * Listeners get (kind, record, old) with kind created|updated|deleted|reset.
 */
export class Collection {
	constructor(name) {
		this.name = name;
		this.seq = 0;
		this.byId = new Map();
		this.gone = new Map();   // id -> version at deletion
		this.listeners = new Set();
		this.loaded = false;
	}

	on(fn) {
		this.listeners.add(fn);
		return () => this.listeners.delete(fn);
	}

	emit(kind, rec, old) {
		for (const fn of this.listeners) fn(kind, rec, old);
	}

	/* load replaces everything with a fresh snapshot taken at seq. */
	load(items, seq) {
		this.byId = new Map(items.map((r) => [r.id, r]));
		this.gone.clear();
		this.seq = Number(seq) || 0;
		this.loaded = true;
		this.emit('reset');
	}

	get(id) {
		return this.byId.get(id);
	}

	/* all returns the records newest first, as the API lists them. */
	all() {
		return [...this.byId.values()].sort(newestFirst);
	}

	get size() {
		return this.byId.size;
	}

	/* applyEvent takes a journal event of this topic. Returns true when the
	 * page changed. */
	applyEvent(ev) {
		if (ev.seq <= this.seq) return false;
		this.seq = ev.seq;
		if (ev.action === 'deleted') return this.remove(ev.id, ev.version);
		if (!ev.data) return false;
		return this.upsert(ev.data);
	}

	/* upsert shows rec unless a version at least as new is already shown. */
	upsert(rec) {
		if (!rec || !rec.id) return false;
		const old = this.byId.get(rec.id);
		if (old && Number(old.version) >= Number(rec.version)) return false;
		const g = this.gone.get(rec.id);
		if (g !== undefined && (g === null || Number(rec.version) <= g)) return false;
		this.byId.set(rec.id, rec);
		this.emit(old ? 'updated' : 'created', rec, old);
		return true;
	}

	remove(id, version) {
		const old = this.byId.get(id);
		const v = version === undefined || version === null ? null : Number(version);
		const prev = this.gone.get(id);
		this.gone.set(id, v === null ? null : Math.max(v, prev || 0));
		if (!old) return false;
		if (v !== null && Number(old.version) > v) return false;
		this.byId.delete(id);
		this.emit('deleted', old, old);
		return true;
	}
}

export function newestFirst(a, b) {
	const x = a.createdAt || '';
	const y = b.createdAt || '';
	if (x !== y) return x < y ? 1 : -1;
	return a.id < b.id ? 1 : -1;
}

/*
 * renderList keeps container's children in step with coll: one element per
 * record made by render(rec) (which must set data-id and data-version),
 * filtered by keep(rec), newest first. Only changed rows are touched.
 */
export function bindList(coll, container, render, { keep = () => true, empty = null, onChange = null } = {}) {
	function place(el, rec) {
		// Insert before the first shown row that is older.
		for (const child of container.children) {
			const other = child.dataset.id && coll.get(child.dataset.id);
			if (other && other !== rec && newestFirst(rec, other) < 0) {
				container.insertBefore(el, child);
				return;
			}
		}
		container.appendChild(el);
	}
	function rowOf(id) {
		return container.querySelector(`:scope > [data-id="${CSS.escape(id)}"]`);
	}
	function full() {
		container.replaceChildren(...coll.all().filter(keep).map(render));
		done();
	}
	function done() {
		if (empty) empty.hidden = container.children.length > 0;
		if (onChange) onChange();
	}
	coll.on((kind, rec) => {
		if (kind === 'reset') return full();
		const row = rec && rowOf(rec.id);
		if (kind === 'deleted' || !keep(rec)) {
			if (row) row.remove();
		} else if (row) {
			const next = render(rec);
			const active = document.activeElement;
			const key = active && row.contains(active) ? (active.dataset.key || null) : null;
			row.replaceWith(next);
			if (key) {
				const t = next.querySelector(`[data-key="${CSS.escape(key)}"]`);
				if (t) t.focus({ preventScroll: true });
			}
		} else {
			place(render(rec), rec);
		}
		done();
	});
	return { refresh: full };
}
