// widgets.js - keyboard-friendly tabs and small shared renderers.

import { $$ } from './dom.js';

/*
 * tabs wires a role="tablist": click or arrow keys (Left/Right, Home/End)
 * select a tab, with a roving tabindex; onSelect(name) gets data-tab.
 * Returns {select(name)}.
 */
export function tabs(tablist, onSelect) {
	const all = $$('[role="tab"]', tablist);
	function select(t, focus) {
		if (!t) return;
		for (const x of all) {
			const on = x === t;
			x.setAttribute('aria-selected', String(on));
			x.tabIndex = on ? 0 : -1;
		}
		const panel = document.getElementById(t.getAttribute('aria-controls'));
		if (panel) panel.setAttribute('aria-labelledby', t.id);
		if (focus) t.focus();
		onSelect(t.dataset.tab);
	}
	tablist.addEventListener('click', (e) => select(e.target.closest('[role="tab"]')));
	tablist.addEventListener('keydown', (e) => {
		const i = all.indexOf(document.activeElement);
		if (i < 0) return;
		let j = null;
		if (e.key === 'ArrowRight') j = (i + 1) % all.length;
		else if (e.key === 'ArrowLeft') j = (i - 1 + all.length) % all.length;
		else if (e.key === 'Home') j = 0;
		else if (e.key === 'End') j = all.length - 1;
		if (j === null) return;
		e.preventDefault();
		select(all[j], true);
	});
	return { select: (name) => select(all.find((t) => t.dataset.tab === name)) };
}

/* setCount writes n into every [data-count=name] under root. */
export function setCount(root, name, n) {
	for (const el of $$(`[data-count="${name}"]`, root)) {
		if (el.textContent !== String(n)) el.textContent = String(n);
	}
}

/* flash marks a freshly changed element for a moment. */
export function flash(el) {
	el.classList.add('flash');
	setTimeout(() => el.classList.remove('flash'), 1300);
}
