// sse.js - a pure text/event-stream parser (no I/O), fed with decoded chunks.

/*
 * createSseParser(onMessage) returns feed(text). onMessage receives
 * {event, data, id, retry} for every dispatched message; comments
 * (heartbeats) are reported as {comment: text} so callers can see that
 * the stream is alive. Follows the WHATWG parsing rules: CR, LF or CRLF
 * line ends; "field: value" with one optional space; blank line dispatches.
 */
export function createSseParser(onMessage) {
	let buf = '';
	let data = [];
	let event = '';
	let id = null;
	let retry = null;
	let lastWasCR = false;

	function line(l) {
		if (l === '') {
			if (data.length || event) {
				onMessage({ event: event || 'message', data: data.join('\n'), id, retry });
			}
			data = [];
			event = '';
			retry = null;
			return;
		}
		if (l[0] === ':') {
			onMessage({ comment: l.slice(1).trim() });
			return;
		}
		const i = l.indexOf(':');
		const field = i < 0 ? l : l.slice(0, i);
		let value = i < 0 ? '' : l.slice(i + 1);
		if (value[0] === ' ') value = value.slice(1);
		if (field === 'data') data.push(value);
		else if (field === 'event') event = value;
		else if (field === 'id') { if (!value.includes('\0')) id = value; }
		else if (field === 'retry') { if (/^\d+$/.test(value)) retry = Number(value); }
	}

	return function feed(chunk) {
		let s = chunk;
		if (lastWasCR && s[0] === '\n') s = s.slice(1);
		lastWasCR = false;
		buf += s;
		let start = 0;
		for (let i = 0; i < buf.length; i++) {
			const c = buf[i];
			if (c === '\n' || c === '\r') {
				line(buf.slice(start, i));
				if (c === '\r') {
					if (i + 1 < buf.length) { if (buf[i + 1] === '\n') i++; }
					else lastWasCR = true;
				}
				start = i + 1;
			}
		}
		buf = buf.slice(start);
	};
}
