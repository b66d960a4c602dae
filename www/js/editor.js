// editor.js - a create/edit form bound to a live collection, with conflict handling.

import { api, ApiError } from './api.js';
import { h, $$, announce } from './dom.js';
import {
	formToJson, fillForm, clearErrors, showErrors, showConflict, submitJson, reportError,
	takeFailure, pairsToRecord,
} from './forms.js';

/* setList rebuilds a repeated-name list (data-list="name") with values
 * plus one empty input to type the next item into. */
export function setList(form, name, values) {
	const box = form.querySelector(`[data-list="${CSS.escape(name)}"]`);
	if (!box) return;
	const items = box.querySelector('.list-items');
	const label = box.dataset.itemLabel || 'Item';
	const make = (v, i) => h('div', { class: 'list-item actions' },
		h('input', {
			type: 'text', name, value: v, dataset: { type: 'array-item', item: box.dataset.item || null },
			'aria-label': `${label} ${i + 1}`, placeholder: box.dataset.placeholder || null,
		}),
		h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Remove ${label.toLowerCase()} ${i + 1}`, onclick: (e) => { e.target.closest('.list-item').remove(); renumber(); } }, '✕'));
	function renumber() {
		$$('.list-item', items).forEach((row, i) => {
			row.querySelector('input').setAttribute('aria-label', `${label} ${i + 1}`);
			row.querySelector('button').setAttribute('aria-label', `Remove ${label.toLowerCase()} ${i + 1}`);
		});
	}
	items.replaceChildren(...[...(values || []), ''].map(make));
	if (!box.querySelector('.list-add')) {
		box.appendChild(h('button', {
			type: 'button', class: 'btn btn-small list-add',
			onclick: () => { items.appendChild(make('', items.children.length)); items.lastChild.querySelector('input').focus(); },
		}, `Add ${label.toLowerCase()}`));
	}
}

/*
 * bindEditor turns a static create form into a create/edit form:
 *   form: the <form action="/api/<c>" method="post"> of the page;
 *   coll: the live list (get(id), upsert(rec), on(fn)); what: "persona" for messages;
 *   fill(form, rec) sets the controls (defaults to fillForm + lists);
 *   body(form) builds the JSON (defaults to formToJson);
 *   onOpen(rec|null) when the form switches mode;
 *   method: PUT (the form holds the whole record) or PATCH (fields that
 *     others maintain, like a proxy's health, are not in the form).
 * Returns {edit(rec), create()}.
 */
export function bindEditor(form, { coll, what, fill, body, onOpen, panel, method = 'PUT' }) {
	const base = form.getAttribute('action');
	const title = form.querySelector('.form-title');
	const createTitle = title ? title.textContent : '';
	const submitBtn = form.querySelector('button[type="submit"]');
	const createLabel = submitBtn ? submitBtn.textContent : 'Save';
	let editing = null;      // id being edited
	let latest = null;       // the newest version of it known (it may leave the window)
	let notice = null;

	function methodField() {
		let m = form.querySelector('input[name="_method"]');
		if (!m) {
			m = h('input', { type: 'hidden', name: '_method', value: 'PUT' });
			form.prepend(m);
		}
		return m;
	}

	function doFill(rec) {
		if (fill) fill(form, rec);
		else fillForm(form, rec);
		form.dataset.version = rec.version;
	}

	function clearNotice() {
		if (notice) notice.remove();
		notice = null;
	}

	function create() {
		editing = null;
		clearNotice();
		clearErrors(form);
		form.reset();
		form.setAttribute('action', base);
		methodField().disabled = true;
		delete form.dataset.version;
		delete form.dataset.editing;
		if (title) title.textContent = createTitle;
		if (submitBtn) submitBtn.textContent = createLabel;
		for (const box of $$('[data-list]', form)) setList(form, box.dataset.list, []);
		if (onOpen) onOpen(null);
	}

	function edit(rec) {
		create();
		editing = rec.id;
		latest = rec;
		form.setAttribute('action', `${base}/${rec.id}`);
		const m = methodField();
		m.value = method;
		m.disabled = false;
		form.dataset.editing = rec.id;
		if (title) title.textContent = `Edit ${what} “${rec.name}”`;
		if (submitBtn) submitBtn.textContent = 'Save changes';
		doFill(rec);
		if (onOpen) onOpen(rec);
		if (panel) panel.open = true;
		form.scrollIntoView({ block: 'start', behavior: 'smooth' });
		const first = form.querySelector('input:not([type="hidden"]), select, textarea');
		if (first) first.focus({ preventScroll: true });
	}

	async function save(ifMatch) {
		let json;
		try {
			json = body ? body(form) : formToJson(form);
		} catch (e) {
			showErrors(form, { message: e.message });
			return;
		}
		try {
			const rec = await submitJson(form, json, ifMatch === undefined ? {} : { ifMatch });
			if (rec) coll.upsert(rec);
			announce(editing ? `Saved ${what} “${rec.name}”.` : `Created ${what} “${rec.name}”.`);
			create();
			if (panel && !editing) panel.open = true;
		} catch (e) {
			if (e instanceof ApiError && e.status === 412 && editing) {
				conflict(json);
				return;
			}
			reportError(form, e);
		}
	}

	async function currentVersion(id) {
		const shown = latest && latest.id === id ? latest : coll.get(id);
		if (shown && Number(shown.version) > Number(form.dataset.version)) return shown.version;
		// The event has not arrived yet: ask for the record once.
		try {
			const rec = await api.get(`${base}/${id}`);
			if (!latest || latest.id !== id || Number(rec.version) > Number(latest.version)) latest = rec;
			coll.upsert(rec);
			return rec.version;
		} catch (e) {
			if (e instanceof ApiError && e.status === 404) {
				latest = null;
				return null;
			}
			throw e;
		}
	}

	function conflict() {
		const id = editing;
		showConflict(form, {
			who: what,
			onReload: async () => {
				try {
					await currentVersion(id);
				} catch (e) {
					reportError(form, e);
					return;
				}
				const rec = latest && latest.id === id ? latest : null;
				if (!rec) {
					showErrors(form, { message: `This ${what} was deleted by someone else.` });
					return;
				}
				clearNotice();
				doFill(rec);
				announce(`Reloaded the current ${what}.`);
			},
			onOverwrite: async () => {
				try {
					const v = await currentVersion(id);
					form.dataset.version = v;
					clearNotice();
					await save(Number(v));
				} catch (e) {
					reportError(form, e);
				}
			},
		});
	}

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		clearErrors(form);
		if (!form.reportValidity()) return;
		save();
	});
	const cancel = form.querySelector('[data-role="cancel"]');
	if (cancel) cancel.addEventListener('click', () => create());

	// Tell the editor at once when someone else changes or deletes the
	// record being edited; saving would then answer 412 anyway.
	coll.on((kind, rec) => {
		if (!editing || !rec || rec.id !== editing) return;
		if (kind !== 'deleted' && (!latest || Number(rec.version) > Number(latest.version))) latest = rec;
		if (kind === 'updated' && Number(rec.version) > Number(form.dataset.version)) {
			clearNotice();
			notice = h('div', { class: 'notice', role: 'status' },
				`This ${what} was just changed by someone else (version ${rec.version}). `,
				h('button', { type: 'button', class: 'btn btn-small', onclick: () => { clearNotice(); if (latest) doFill(latest); } }, 'Reload it'));
			form.prepend(notice);
		} else if (kind === 'deleted') {
			latest = null;
			clearNotice();
			notice = h('div', { class: 'notice', role: 'status' }, `This ${what} was just deleted by someone else.`);
			form.prepend(notice);
		}
	});

	/* restore shows what a post of this form without JavaScript got back
	 * (takeFailure): the form filled with what was typed, the errors at
	 * their fields. */
	function restore(f) {
		create();
		const rec = pairsToRecord(form, f.values);
		if (fill) fill(form, rec);
		else fillForm(form, rec);
		if (onOpen) onOpen(null, { restored: true });
		if (panel) panel.open = true;
		showErrors(form, {
			message: f.message, fields: f.fields,
			note: f.partial ? 'Some of the longer text you typed could not be kept: please type it again.' : null,
		});
	}

	create();
	const failed = takeFailure();
	if (failed && failed.form === form.id) {
		failed.claimed = true;
		restore(failed);
	}
	return { edit, create, get editing() { return editing; } };
}
