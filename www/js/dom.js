// dom.js - tiny helpers to build and update DOM nodes without innerHTML.

/*
 * h(tag, attrs, ...children) builds an element. attrs keys: "class",
 * "dataset" (object), "on<event>" (listener), "text", booleans set or
 * remove the attribute, other values become attributes. Children may be
 * nodes, strings, numbers, arrays, or null/false (skipped).
 */
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === null || v === undefined || v === false) continue;
			if (k === 'class') el.className = v;
			else if (k === 'dataset') {
				for (const [dk, dv] of Object.entries(v)) if (dv !== null && dv !== undefined) el.dataset[dk] = dv;
			}
			else if (k === 'text') el.textContent = v;
			else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
			else if (k.startsWith('on') && typeof v === 'function')
				el.addEventListener(k.slice(2), v);
			else if (k === 'value' && 'value' in el) el.value = v;
			else if (v === true) el.setAttribute(k, '');
			else el.setAttribute(k, String(v));
		}
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false) continue;
		if (Array.isArray(c)) append(el, c);
		else if (c instanceof Node) el.appendChild(c);
		else el.appendChild(document.createTextNode(String(c)));
	}
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/* replaceKeepingFocus swaps old for next; when focus was inside old, it is
 * moved to the element of next with the same data-key or name, so a live
 * update never throws a keyboard user back to the top of the page. */
export function replaceKeepingFocus(old, next) {
	const active = document.activeElement;
	let key = null;
	if (active && old.contains(active) && active !== old)
		key = active.dataset.key || (active.name ? `[name="${CSS.escape(active.name)}"]` : null);
	old.replaceWith(next);
	if (key) {
		const target = key.startsWith('[') ? next.querySelector(key)
			: next.querySelector(`[data-key="${CSS.escape(key)}"]`);
		if (target) target.focus({ preventScroll: true });
	}
}

// One formatter for the page: toLocaleString with options builds a new
// Intl formatter per call (~0.2 ms), too slow for rows patched in bursts.
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const NUMBER = new Intl.NumberFormat();

/* fmtNumber writes n with the reader's digit grouping. */
export function fmtNumber(n) {
	return NUMBER.format(Number(n || 0));
}

export function fmtTime(iso) {
	if (!iso) return '—';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return iso;
	return DATE_TIME.format(d);
}

export function fmtAgo(iso) {
	if (!iso) return 'never';
	const d = new Date(iso).getTime();
	if (Number.isNaN(d)) return iso;
	const s = Math.round((Date.now() - d) / 1000);
	if (s < 5) return 'just now';
	if (s < 60) return `${s} s ago`;
	if (s < 3600) return `${Math.round(s / 60)} min ago`;
	if (s < 86400) return `${Math.round(s / 3600)} h ago`;
	return fmtTime(iso);
}

export function timeEl(iso, ago = true) {
	return h('time', { datetime: iso || '', title: iso ? fmtTime(iso) : '' },
		ago ? fmtAgo(iso) : fmtTime(iso));
}

export function badge(text, kind) {
	return h('span', { class: `badge badge-${kind || text}` }, text);
}

/* progressBar renders a labelled progress bar; pct is 0..100. */
export function progressBar(pct, label) {
	const v = Math.max(0, Math.min(100, Number(pct) || 0));
	const shown = Math.round(v * 10) / 10;
	return h('div', {
		class: 'progress', role: 'progressbar', 'aria-valuemin': 0,
		'aria-valuemax': 100, 'aria-valuenow': shown,
		'aria-label': label || 'Progress', dataset: { value: shown },
	}, h('div', { class: 'progress-fill', style: { width: `${v}%` } }),
	h('span', { class: 'progress-text' }, `${shown}%`));
}

/* announce speaks a short message to screen readers and shows it as a toast. */
export function announce(msg, kind = 'info') {
	let box = document.getElementById('toasts');
	if (!box) {
		box = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
		document.body.appendChild(box);
	}
	const t = h('div', { class: `toast toast-${kind}` }, msg);
	box.appendChild(t);
	setTimeout(() => t.remove(), 5000);
}
