// stack.mjs - the real stack for a test file: stackctl.py (tests/integration/stack.py) plus curl and CLI writes.

import { spawn, execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/*
 * startStack starts nginx + spawn-fcgi + flowpush.fcgi + flowpushd on free
 * ports (built in $FLOWPUSH_BUILD) and resolves with a handle:
 * {url, config, stopPush(), startPush(), stopFcgi(), startFcgi(),
 * recreateDb(), cli(args, input), stop()}. env adds FLOWPUSH_<KEY>
 * settings for every program of the stack ({FLOWPUSH_TOKEN_TTL: '5'}).
 */
export function startStack({ demo = false, env = {} } = {}) {
	const args = [path.join(HERE, '..', 'stackctl.py'), ...(demo ? ['--demo'] : [])];
	for (const [k, v] of Object.entries(env)) args.push('--env', `${k}=${v}`);
	const proc = spawn('/usr/bin/python3', args, {
		stdio: ['pipe', 'pipe', 'inherit'],
	});
	const rl = createInterface({ input: proc.stdout });
	const waiting = new Map();
	let nextId = 1;
	return new Promise((resolve, reject) => {
		let ready = false;
		proc.on('exit', (code) => {
			if (!ready) reject(new Error(`stackctl exited with ${code}`));
			for (const w of waiting.values()) w.reject(new Error('stack exited'));
		});
		rl.on('line', (line) => {
			let m;
			try { m = JSON.parse(line); } catch { return; }
			if (!ready) {
				if (!m.ready) { reject(new Error(`stack did not start: ${m.error}`)); return; }
				ready = true;
				resolve(handle(m));
				return;
			}
			const w = waiting.get(m.id);
			if (!w) return;
			waiting.delete(m.id);
			if (m.ok) w.resolve(m);
			else w.reject(new Error(m.error));
		});
	});

	function command(op, extra = {}) {
		const id = nextId++;
		return new Promise((resolve, reject) => {
			waiting.set(id, { resolve, reject });
			proc.stdin.write(`${JSON.stringify({ id, op, ...extra })}\n`);
		});
	}

	function handle(info) {
		return {
			...info,
			stopPush: () => command('stop-push'),
			startPush: () => command('start-push'),
			stopFcgi: () => command('stop-fcgi'),
			startFcgi: () => command('start-fcgi'),
			/* recreateDb replaces the database with a new, empty one (and
			 * the config with a new secret); stop both programs first. */
			recreateDb: () => command('recreate-db'),
			/* cli runs `flowpush --config CONF ...args` with input on stdin;
			 * resolves with the parsed JSON output (or text). */
			async cli(args, input) {
				const r = await command('cli', { args, input: input === undefined ? null : JSON.stringify(input) });
				if (r.rc !== 0) throw new Error(`flowpush ${args.join(' ')} failed (${r.rc}): ${r.stderr}`);
				try { return JSON.parse(r.stdout); } catch { return r.stdout; }
			},
			/* curl sends one request with curl; resolves {status, body}. */
			curl: (method, p, body, headers = {}) => curl(info.url, method, p, body, headers),
			stop() {
				return new Promise((resolve) => {
					proc.on('exit', () => resolve());
					proc.stdin.end();
					setTimeout(() => proc.kill('SIGTERM'), 15000).unref();
				});
			},
		};
	}
}

export function curl(base, method, p, body, headers = {}) {
	const args = ['-sS', '-X', method, '-o', '-', '-w', '\n%{http_code}', `${base}${p}`];
	for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
	if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
	return new Promise((resolve, reject) => {
		execFile('curl', args, { maxBuffer: 16 << 20 }, (err, stdout) => {
			if (err) { reject(err); return; }
			const i = stdout.lastIndexOf('\n');
			const text = stdout.slice(0, i);
			let json = null;
			try { json = text ? JSON.parse(text) : null; } catch { json = text; }
			resolve({ status: Number(stdout.slice(i + 1)), body: json });
		});
	});
}
