// api.js - the JSON client of /api/: requests, errors, versions.

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
