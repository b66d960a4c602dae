// sse.test.mjs - the pure SSE parser of www/js/sse.js, fed the way a network delivers bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

const src = await readFile(new URL('../../www/js/sse.js', import.meta.url), 'utf8');
const { createSseParser } = await import(`data:text/javascript,${encodeURIComponent(src)}`);

function parse(chunks) {
	const out = [];
	const feed = createSseParser((m) => out.push(m));
	for (const c of chunks) feed(c);
	return out;
}

test('an event split across chunks at any byte is dispatched once, whole', () => {
	const text = 'retry: 3000\nid: 42\ndata: {"seq":42}\n\n';
	for (let i = 1; i < text.length; i++) {
		const got = parse([text.slice(0, i), text.slice(i)]);
		assert.deepEqual(got, [{ event: 'message', data: '{"seq":42}', id: '42', retry: 3000 }], `split at ${i}`);
	}
});

test('a reset event carries its name; comments are reported as heartbeats', () => {
	const got = parse([': heartbeat\n\nevent: reset\ndata: {"seq":7}\n\n']);
	assert.deepEqual(got, [{ comment: 'heartbeat' }, { event: 'reset', data: '{"seq":7}', id: null, retry: null }]);
});

test('CRLF and CR line ends work, also when CR and LF arrive apart', () => {
	assert.deepEqual(parse(['data: a\r', '\n\r', '\n']).map((m) => m.data), ['a']);
	assert.deepEqual(parse(['data: b\r\rdata: c\r\n\r\n']).map((m) => m.data), ['b', 'c']);
});

test('several data lines join with newlines; a field without a colon is a name', () => {
	assert.deepEqual(parse(['data: x\ndata\ndata:y\n\n']).map((m) => m.data), ['x\n\ny']);
});
