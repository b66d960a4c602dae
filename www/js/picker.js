// picker.js - choose records by searching (GET /api/{c}?q=..&limit=20) instead of listing them all.

import { api } from './api.js';
import { h } from './dom.js';
import { Q_MIN } from './window.js';

const DEBOUNCE_MS = 250;

/*
 * picker enhances a plain text input that holds a record id (what a form
 * posts without JavaScript) into a search: typing at least 3 characters
 * lists up to 20 matching records in a <datalist>; choosing one by name
 * puts its id into the form. With multiple, each choice becomes a chip
 * (a hidden input of the same name, data-type="array-item") with a remove
 * button.
 *   input: the <input name=... > of the id;
 *   collection, filters ({personaType: "dns"}): what to search;
 *   label(rec): the text of a choice.
 * Returns {set(ids, recs)} to fill it (editing) and clear().
 */
export function picker(input, { collection, filters = {}, multiple = false, label = (r) => r.name, names = null, accept = null, placeholder = 'Search by name (3+ letters)' }) {
	const name = input.name;
	const id = input.id;
	const listId = `${id}-options`;
	const search = h('input', {
		type: 'search', id, list: listId, autocomplete: 'off',
		placeholder, 'aria-describedby': `${id}-pick-hint`,
		dataset: { picker: collection },
	});
	const list = h('datalist', { id: listId });
	const hint = h('span', { class: 'hint', id: `${id}-pick-hint`, 'aria-live': 'polite' }, '');
	const chips = h('div', { class: 'chips actions' });
	const found = new Map();   // label -> record
	const required = input.required;
	input.replaceWith(h('div', { class: 'picker' }, search, list, chips, hint));
	let timer = null;
	let ask = 0;

	function chip(rec, text) {
		const hidden = h('input', { type: 'hidden', name, value: rec.id, dataset: multiple ? { type: 'array-item' } : {} });
		const el = h('span', { class: 'chip', dataset: { choice: rec.id } }, text || label(rec), hidden,
			h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Remove ${text || label(rec)}`, onclick: () => { el.remove(); update(); } }, '✕'));
		return el;
	}

	function update() {
		search.required = required && !chips.children.length;
	}

	function choose(rec) {
		if (!multiple) chips.replaceChildren();
		if (![...chips.children].some((c) => c.dataset.choice === rec.id)) chips.append(chip(rec));
		search.value = '';
		list.replaceChildren();
		hint.textContent = '';
		update();
	}

	search.addEventListener('input', () => {
		const text = search.value;
		if (found.has(text)) {
			choose(found.get(text));
			return;
		}
		clearTimeout(timer);
		timer = setTimeout(async () => {
			const q = text.trim();
			if ([...q].length < Q_MIN) {
				hint.textContent = q ? `Type at least ${Q_MIN} characters.` : '';
				return;
			}
			const my = ++ask;
			try {
				const qs = new URLSearchParams({ q, limit: '20', sort: 'name', ...filters });
				const answer = await api.get(`/api/${collection}?${qs}`);
				if (my !== ask) return;
				found.clear();
				const items = (answer.items || []).filter(accept || (() => true));
				list.replaceChildren(...items.map((r) => {
					const t = `${label(r)} (${r.id.slice(0, 8)})`;
					found.set(t, r);
					return h('option', { value: t });
				}));
				hint.textContent = items.length ? `${items.length} found: choose one.` : 'Nothing found.';
			} catch (e) {
				if (my === ask) hint.textContent = `Search failed: ${e.message}`;
			}
		}, DEBOUNCE_MS);
	});
	search.addEventListener('change', () => {
		if (found.has(search.value)) choose(found.get(search.value));
	});
	update();

	return {
		search,
		/* set shows ids as chosen; names (a labelSource) gives their names. */
		set(ids) {
			chips.replaceChildren(...(ids || []).filter(Boolean).map((x) => {
				const rec = names && names.get(x);
				return chip(rec || { id: x, name: `${collection} ${x.slice(0, 8)}` });
			}));
			update();
		},
		clear() {
			chips.replaceChildren();
			search.value = '';
			update();
		},
		choose,
	};
}
