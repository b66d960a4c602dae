// api.js - the JSON client of /api/: requests, errors, paging, versions.

export class ApiError extends Error {
	constructor(status, body) {
		const e = (body && body.error) || {};
		super(e.message || `HTTP ${status}`);
		this.status = status;
		this.code = e.code || null;
		this.fields = e.fields || {};
	}
}

/*
 * request sends one call. body (object) goes as JSON; opts.ifMatch adds
 * If-Match with the quoted version; opts.signal aborts. Resolves with the
 * parsed JSON (null for 204), throws ApiError for any non-2xx answer and
 * TypeError for network failures.
 */
export async function request(method, path, body, opts = {}) {
	const headers = { Accept: 'application/json' };
	if (body !== undefined && body !== null) headers['Content-Type'] = 'application/json';
	if (opts.ifMatch !== undefined && opts.ifMatch !== null)
		headers['If-Match'] = `"${opts.ifMatch}"`;
	const res = await fetch(path, {
		method, headers, credentials: 'same-origin', cache: 'no-store',
		body: body === undefined || body === null ? undefined : JSON.stringify(body),
		signal: opts.signal,
	});
	let data = null;
	if (res.status !== 204) {
		const text = await res.text();
		if (text) {
			try { data = JSON.parse(text); } catch { data = null; }
		}
	}
	if (!res.ok) throw new ApiError(res.status, data);
	return data;
}

export const api = {
	get: (p, o) => request('GET', p, undefined, o),
	post: (p, b, o) => request('POST', p, b === undefined ? {} : b, o),
	put: (p, b, o) => request('PUT', p, b, o),
	patch: (p, b, o) => request('PATCH', p, b, o),
	del: (p, o) => request('DELETE', p, undefined, o),
};

/*
 * listAll loads a whole collection, following `next` cursors. The seq of
 * the first page is the one to subscribe from: later pages may include
 * changes after it, which the version check then ignores when their
 * events arrive (never a lost change, never a doubled row).
 */
export async function listAll(collection, query = '') {
	const items = [];
	let seq = null;
	let after = null;
	for (let i = 0; i < 1000; i++) {
		const qs = new URLSearchParams(query);
		qs.set('limit', '1000');
		if (after) qs.set('after', after);
		const page = await api.get(`/api/${collection}?${qs}`);
		if (seq === null) seq = page.seq;
		items.push(...(page.items || []));
		if (!page.next) break;
		after = page.next;
	}
	return { items, seq: seq || 0 };
}
