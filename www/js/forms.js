// forms.js - forms that post natively without JavaScript and as JSON with it.

import { request, ApiError } from './api.js';
import { h, $$, announce } from './dom.js';

/* parsePath("rules[0].pattern") -> ["rules", 0, "pattern"] */
export function parsePath(name) {
	const out = [];
	for (const part of name.split('.')) {
		const re = /^([^[\]]*)((?:\[\d+\])*)$/;
		const m = re.exec(part);
		if (!m) { out.push(part); continue; }
		if (m[1]) out.push(m[1]);
		for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
	}
	return out;
}

function setPath(obj, path, value) {
	let o = obj;
	for (let i = 0; i < path.length - 1; i++) {
		const k = path[i];
		if (o[k] === undefined || o[k] === null || typeof o[k] !== 'object')
			o[k] = typeof path[i + 1] === 'number' ? [] : {};
		o = o[k];
	}
	o[path[path.length - 1]] = value;
}

function getPath(obj, path) {
	let o = obj;
	for (const k of path) {
		if (o === null || o === undefined) return undefined;
		o = o[k];
	}
	return o;
}

const lines = (s) => s.split(/\r?\n/).map((x) => x.trim()).filter(Boolean);

/*
 * readValue turns one control into its JSON value, or undefined to leave
 * the field out. Types come from the control: number inputs give numbers,
 * checkboxes and data-type="bool" give booleans; data-type "lines" is one
 * item per line, "map" is "Name: value" per line, "ints" a comma list,
 * "array-item" collects repeated names, "json" is parsed. An empty text
 * gives null when data-empty="null", is left out when data-empty="omit"
 * (and for numbers), and stays "" otherwise.
 */
function readValue(el) {
	const type = el.dataset.type;
	const v = el.value;
	if (type === 'lines') return lines(v);
	if (type === 'map') {
		const m = {};
		for (const l of lines(v)) {
			const i = l.indexOf(':');
			if (i > 0) m[l.slice(0, i).trim()] = l.slice(i + 1).trim();
		}
		return m;
	}
	if (type === 'ints') return v.split(/[\s,]+/).filter(Boolean).map(Number);
	if (type === 'json') return v.trim() ? JSON.parse(v) : undefined;
	if (el.type === 'checkbox' || type === 'bool') return v === 'true' || v === 'on';
	if (v === '') {
		if (el.dataset.empty === 'null') return null;
		if (el.dataset.empty === 'omit' || el.type === 'number') return undefined;
		return '';
	}
	if (el.type === 'number' || type === 'number') return Number(v);
	return v;
}

/* formToJson reads a form as the server would read it as a urlencoded
 * body, with JSON types. Names starting with "_" are skipped. */
export function formToJson(form) {
	const out = {};
	const arrays = new Map();
	for (const el of form.elements) {
		// data-path names a field whose control has another name (one
		// starting with "_", so that a plain post skips it).
		const name = el.dataset.path || el.name;
		if (!name || el.disabled || (!el.dataset.path && name.startsWith('_'))) continue;
		if (el.type === 'submit' || el.type === 'button' || el.type === 'file') continue;
		if ((el.type === 'checkbox' || el.type === 'radio') && !el.checked) continue;
		const path = parsePath(name);
		if (el.multiple && el.tagName === 'SELECT') {
			setPath(out, path, [...el.selectedOptions].map((o) => o.value));
			continue;
		}
		if (el.dataset.type === 'array-item') {
			if (!arrays.has(name)) { arrays.set(name, []); setPath(out, path, arrays.get(name)); }
			if (el.value.trim() !== '') {
				arrays.get(name).push(el.dataset.item === 'int' ? Number(el.value) : el.value.trim());
			}
			continue;
		}
		const val = readValue(el);
		if (val === undefined) continue;
		setPath(out, path, val);
	}
	// Sparse arrays (a removed rule row) must not send holes.
	compact(out);
	return out;
}

function compact(o) {
	if (Array.isArray(o)) {
		for (let i = o.length - 1; i >= 0; i--) if (o[i] === undefined) o.splice(i, 1);
		o.forEach(compact);
	} else if (o && typeof o === 'object') {
		Object.values(o).forEach(compact);
	}
}

/* fillForm sets the controls of form from rec, by name path. */
export function fillForm(form, rec) {
	for (const el of form.elements) {
		const name = el.dataset.path || el.name;
		if (!name || (!el.dataset.path && name.startsWith('_')) || el.type === 'submit' || el.type === 'button') continue;
		if (el.type === 'hidden' && el.dataset.type === 'bool') continue;
		const val = getPath(rec, parsePath(name));
		// A fixed hidden field (campaignType) keeps its value unless told;
		// a hidden JSON marker ("rules" = []) only makes an emptied list
		// travel, and must not carry the list itself (rows removed in the
		// form would come back).
		if (el.type === 'hidden' && (val === undefined || el.dataset.type === 'json')) continue;
		const type = el.dataset.type;
		if (el.type === 'checkbox') el.checked = Boolean(val);
		else if (el.type === 'password') el.value = '';
		else if (type === 'lines') el.value = Array.isArray(val) ? val.join('\n') : '';
		else if (type === 'ints') el.value = Array.isArray(val) ? val.join(', ') : '';
		else if (type === 'map') el.value = val && typeof val === 'object'
			? Object.entries(val).map(([k, x]) => `${k}: ${x}`).join('\n') : '';
		else if (type === 'json') el.value = val === undefined || val === null ? '' : JSON.stringify(val);
		else if (el.multiple && el.tagName === 'SELECT') {
			const set = new Set(Array.isArray(val) ? val : []);
			for (const o of el.options) o.selected = set.has(o.value);
		} else if (el.type === 'radio') el.checked = String(val) === el.value;
		else if (type === 'array-item') { /* handled by the page's list editor */ }
		else el.value = val === undefined || val === null ? '' : String(val);
	}
}

export function clearErrors(form) {
	for (const e of $$('.field-error', form)) e.remove();
	for (const e of $$('[aria-invalid="true"]', form)) {
		e.removeAttribute('aria-invalid');
		const d = (e.getAttribute('aria-describedby') || '').split(' ').filter((x) => !x.startsWith('err-'));
		if (d.length) e.setAttribute('aria-describedby', d.join(' '));
		else e.removeAttribute('aria-describedby');
	}
	const box = form.querySelector('.form-error');
	if (box) { box.hidden = true; box.replaceChildren(); }
}

let errSeq = 0;

/* fieldFor finds the control a server error path names. */
function fieldFor(form, path) {
	const exact = form.querySelector(`[name="${CSS.escape(path)}"], [data-field="${CSS.escape(path)}"], [data-path="${CSS.escape(path)}"]`);
	if (exact) return exact;
	// "configDetails.resolvers[1]" -> the resolvers control.
	const base = path.replace(/\[\d+\]$/, '');
	return form.querySelector(`[name="${CSS.escape(base)}"], [data-field="${CSS.escape(base)}"], [data-path="${CSS.escape(base)}"]`);
}

/* showErrors puts each server field message next to its control and the
 * rest in the form's error box; focuses the first invalid control. */
export function showErrors(form, err) {
	clearErrors(form);
	let first = null;
	const loose = [];
	for (const [path, msg] of Object.entries(err.fields || {})) {
		const el = fieldFor(form, path);
		if (!el) { loose.push(`${path}: ${msg}`); continue; }
		const id = `err-${++errSeq}`;
		const p = h('p', { class: 'field-error', id, dataset: { path } }, msg);
		const anchor = el.closest('.field') || el;
		anchor.appendChild(p);
		el.setAttribute('aria-invalid', 'true');
		el.setAttribute('aria-describedby', `${el.getAttribute('aria-describedby') || ''} ${id}`.trim());
		if (!first) first = el;
	}
	const parts = [];
	if (!first || loose.length) parts.push(h('p', {}, err.message || 'The request failed.'));
	if (loose.length) parts.push(h('ul', {}, loose.map((l) => h('li', {}, l))));
	if (err.note) parts.push(h('p', {}, err.note));
	// Errors that all sit at their fields need no box above the form.
	if (!parts.length) {
		first.focus();
		return;
	}
	const box = formErrorBox(form);
	box.replaceChildren(...parts);
	box.hidden = false;
	(first || box).focus();
}

/* formErrorBox is the form's box for errors that belong to no field,
 * made hidden and empty the first time. */
function formErrorBox(form) {
	let box = form.querySelector('.form-error');
	if (!box) {
		box = h('div', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
		form.prepend(box);
	}
	return box;
}

/* The parameters a failed form post brings back (docs/API.md, Forms). */
const FAILURE_KEYS = ['error', 'message', 'form', 'partial'];
let failure;

/* sentByThisSite: only this site's own form answers may put their
 * message on the page, not a link from elsewhere with ?error=&message=. */
function sentByThisSite() {
	try {
		return new URL(document.referrer).origin === location.origin;
	} catch {
		return false;
	}
}

/*
 * takeFailure reads once what a form posted without JavaScript got back
 * (?error=&message=&form=&field.<path>=&value.<name>=&partial=1, and the
 * fragment #<form>-failed), removes it from the page's address and
 * returns {form, error, message, fields, values: [[name, value]...],
 * partial, claimed}, or null when there is none. Every call returns the
 * same object; a form editor that shows it sets claimed.
 */
export function takeFailure() {
	if (failure !== undefined) return failure;
	failure = null;
	const p = new URLSearchParams(location.search);
	if (!p.has('error')) return null;
	const f = {
		form: p.get('form'), error: p.get('error'), message: p.get('message') || '',
		fields: {}, values: [], partial: p.get('partial') === '1', claimed: false,
	};
	const keep = new URLSearchParams();
	for (const [k, v] of p) {
		if (k.startsWith('field.')) f.fields[k.slice(6)] = v;
		else if (k.startsWith('value.')) f.values.push([k.slice(6), v]);
		else if (!FAILURE_KEYS.includes(k)) keep.append(k, v);
	}
	const qs = keep.toString();
	const hash = location.hash.endsWith('-failed') ? '' : location.hash;
	history.replaceState(history.state, '', `${location.pathname}${qs ? `?${qs}` : ''}${hash}`);
	if (sentByThisSite()) failure = f;
	return failure;
}

/* isCheckPair: a hidden "false" followed by a checked box ("true"). */
const isCheckPair = (vals) => vals[0] === 'false' && vals.length <= 2 && vals.every((v) => v === 'false' || v === 'true');

/*
 * pairsToRecord turns form pairs ([[name, value]...], as a browser posts
 * them) back into a record shaped like formToJson's, with the form's
 * controls telling the types: repeated names and array items become
 * lists, "false"(+"true") checkbox pairs booleans, text areas of lines
 * or "Name: value" lines lists or maps.
 */
export function pairsToRecord(form, pairs) {
	const byName = new Map();
	for (const [n, v] of pairs) {
		if (!byName.has(n)) byName.set(n, []);
		byName.get(n).push(v);
	}
	const out = {};
	for (const [name, vals] of byName) {
		const els = [...form.elements].filter((e) => (e.dataset.path || e.name) === name);
		const el = els.find((e) => e.type !== 'hidden') || els[0];
		const type = el ? el.dataset.type : undefined;
		const last = vals[vals.length - 1];
		let val;
		if (['lines', 'map', 'ints', 'json'].includes(type)) {
			try {
				val = readValue({ dataset: el.dataset, type: el.type, value: last });
			} catch {
				val = undefined;
			}
		} else if (isCheckPair(vals)) val = last === 'true';
		else if (type === 'array-item' || vals.length > 1 || (el && el.multiple)
			|| (el && el.type === 'checkbox' && el.value !== 'true')) val = vals.filter((v) => v.trim() !== '');
		else val = last;
		if (val !== undefined) setPath(out, parsePath(name), val);
	}
	compact(out);
	return out;
}

/* showPageError shows a failure no form on the page took (a one-button
 * form posted without JavaScript) in a box at the top of the page. */
export function showPageError(f) {
	const main = document.querySelector('main');
	if (!main) return;
	const box = h('div', { class: 'form-error page-error', role: 'alert', tabindex: '-1', id: 'page-error' },
		h('p', {}, f.message || 'That did not work.'),
		Object.entries(f.fields).length
			? h('ul', {}, Object.entries(f.fields).map(([k, v]) => h('li', {}, `${k}: ${v}`))) : null,
		h('button', { type: 'button', class: 'btn btn-small', onclick: () => box.remove() }, 'Dismiss'));
	const head = main.querySelector('.page-head');
	if (head) head.after(box);
	else main.prepend(box);
	box.focus();
}

/*
 * showConflict tells that the record changed since the form was filled and
 * offers Reload (take the current record) or Overwrite (save this form
 * over it). Nothing is lost silently: the user chooses.
 */
export function showConflict(form, { onReload, onOverwrite, who }) {
	clearErrors(form);
	const box = formErrorBox(form);
	box.classList.add('conflict');
	box.replaceChildren(
		h('p', { class: 'conflict-text' }, `This ${who || 'record'} was changed by someone else since you opened it — reload it to see their changes, or overwrite them with yours.`),
		h('div', { class: 'actions' },
			h('button', { type: 'button', class: 'btn', dataset: { key: 'conflict-reload' }, onclick: () => { box.hidden = true; box.classList.remove('conflict'); onReload(); } }, 'Reload'),
			h('button', { type: 'button', class: 'btn btn-danger', dataset: { key: 'conflict-overwrite' }, onclick: () => { box.hidden = true; box.classList.remove('conflict'); onOverwrite(); } }, 'Overwrite')));
	box.hidden = false;
	box.focus();
}

/* methodOf is the form's effective method: its _method field or POST. */
export function methodOf(form) {
	const m = form.querySelector('input[name="_method"]');
	return (m && !m.disabled && m.value ? m.value : form.getAttribute('method') || 'POST').toUpperCase();
}

/*
 * submitJson sends form as JSON to its action with its effective method,
 * with If-Match from form.dataset.version when set. Resolves with the
 * answer or throws ApiError (422 fields already shown, 412 left to the
 * caller).
 */
export async function submitJson(form, body, opts = {}) {
	const method = opts.method || methodOf(form);
	const url = opts.url || form.getAttribute('action');
	const ifMatch = opts.ifMatch !== undefined ? opts.ifMatch
		: (form.dataset.version ? Number(form.dataset.version) : null);
	const busy = $$('button[type="submit"], button:not([type])', form);
	busy.forEach((b) => { b.disabled = true; });
	form.setAttribute('aria-busy', 'true');
	try {
		return await request(method, url, method === 'DELETE' ? undefined : body, { ifMatch });
	} finally {
		busy.forEach((b) => { b.disabled = false; });
		form.removeAttribute('aria-busy');
	}
}

/* reportError shows any failed call near form, or as a toast without one. */
export function reportError(form, e) {
	if (!(e instanceof ApiError)) {
		const msg = 'The server could not be reached. Your changes were not saved; try again.';
		if (form) showErrors(form, { message: msg });
		else announce(msg, 'error');
		return;
	}
	if (form) showErrors(form, e);
	else announce(e.message, 'error');
}

/* scriptField is the hidden _script=1 that tells the server this page's
 * script runs: a failed native post then comes back here with the failure
 * in the address (takeFailure), not as the server's "Not saved" page. */
const scriptField = () => h('input', { type: 'hidden', name: '_script', value: '1' });

/* setRedirects points every _redirect field at this page and its view
 * (the query: a tab, a search), so a form posted natively comes back
 * here (the server accepts same-origin paths), and adds _script=1 beside
 * it. A failure already in the address is taken out first: it must not
 * come back after a success. */
export function setRedirects(root = document) {
	takeFailure();
	for (const el of $$('input[name="_redirect"]', root)) {
		el.value = `${location.pathname}${location.search}`;
		if (el.form && !el.form.elements.namedItem('_script')) el.after(scriptField());
	}
}

/* returnFields are the hidden fields of a form the script builds: back
 * to this page, where the script takes a failure (_script=1). */
export function returnFields() {
	return [h('input', { type: 'hidden', name: '_redirect', value: location.pathname }), scriptField()];
}

/* checkbox(name, checked, label) is the hidden-"false"-then-box pair. */
export function checkbox(name, checked, label, attrs = {}) {
	return h('label', { class: 'check' },
		h('input', { type: 'hidden', name, value: 'false', dataset: { type: 'bool' } }),
		h('input', { type: 'checkbox', name, value: 'true', checked: Boolean(checked), ...attrs }),
		' ', label);
}

/*
 * actionForm builds a one-button form that works without JavaScript:
 * POST to url (with _method when not POST), coming back to this page.
 * fields are extra hidden name/value pairs.
 */
export function actionForm(url, method, label, { fields = {}, cls = 'btn btn-small', key, version, confirm: ask } = {}) {
	const hidden = returnFields();
	if (method !== 'POST') hidden.push(h('input', { type: 'hidden', name: '_method', value: method }));
	for (const [k, v] of Object.entries(fields))
		hidden.push(h('input', { type: 'hidden', name: k, value: String(v), dataset: typeof v === 'boolean' ? { type: 'bool' } : {} }));
	return h('form', {
		class: 'inline', method: 'post', action: url,
		dataset: { action: '1', version: version === undefined ? null : version, confirm: ask || null },
	}, hidden, h('button', { type: 'submit', class: cls, dataset: { key: key || `${label}` } }, label));
}

/*
 * enhanceActions makes every [data-action] form under root submit with
 * fetch: its fields as JSON, its version as If-Match, errors as toasts.
 * apply(record) receives the answer so the page shows it at once.
 */
export function enhanceActions(root, apply) {
	root.addEventListener('submit', async (ev) => {
		const form = ev.target;
		if (!(form instanceof HTMLFormElement) || !form.dataset.action) return;
		ev.preventDefault();
		if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
		try {
			const json = formToJson(form);
			// data-empty names a list that must be sent even when no field
			// restates an item (removing a pool's last member).
			if (form.dataset.empty && !(form.dataset.empty in json)) json[form.dataset.empty] = [];
			const rec = await submitJson(form, json);
			apply(rec, form);
		} catch (e) {
			if (e instanceof ApiError && e.status === 412)
				announce('Not done: the record was changed by someone else meanwhile. The page shows its current state; try again.', 'error');
			else reportError(null, e);
		}
	});
}
