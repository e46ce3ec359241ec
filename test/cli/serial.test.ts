/**
 * `usbfn serial`: the CDC-ACM function bridged to stdin/stdout or TCP. Against the emulated host
 * (which opens the port at 115200 8N1 with DTR/RTS and echoes), stdin comes back on stdout
 * byte-exact and the host's line state is reported on stderr.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { pattern } from '../protocols/helpers.js';
import { runInProcess, spawnCli } from './helpers.js';

const test = suite('usbfn serial');

test('the spawned bridge echoes 1 MiB of binary stdin back on stdout byte-exact and reports line state', async () => {
  const input = pattern(1024 * 1024, 7);
  const r = await spawnCli(['serial', '--emulate'], { input });
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdoutBytes.equals(input), `stdout is stdin (${r.stdoutBytes.length} of ${input.length} bytes)`);
  assert.match(r.stderr, /host set line coding 115200 8N1/);
  assert.match(r.stderr, /host set DTR on, RTS on/);
  assert.match(r.stderr, /1048576 bytes sent, 1048576 received/);
});

test('--json notes are JSON lines carrying the line coding and control lines', async () => {
  const r = await runInProcess(['serial', '--emulate', '--json', '--layout', 'functionfs'], { input: 'abc' });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'abc');
  const notes = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(notes.some((n) => JSON.stringify(n.lineCoding) === JSON.stringify({ baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 })));
  assert.ok(notes.some((n) => JSON.stringify(n.controlLines) === JSON.stringify({ dtr: true, rts: true })));
});

test('--tcp 0 listens on 127.0.0.1, bridges one client, and stops cleanly (exit 0) on abort', async () => {
  const stop = new AbortController();
  let listening!: (port: number) => void;
  const port = new Promise<number>((resolve) => (listening = resolve));
  const run = runInProcess(['serial', '--emulate', '--tcp', '0'], {
    signal: stop.signal,
    onStderr: (text) => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) listening(Number(m[1]));
    },
  });
  const socket = net.connect(await port, '127.0.0.1');
  const chunks: Buffer[] = [];
  const echoed = new Promise<void>((resolve) => socket.on('data', (d: Buffer) => (chunks.push(d), Buffer.concat(chunks).length >= 9 && resolve())));
  socket.write('over tcp!');
  await echoed;
  assert.is(Buffer.concat(chunks).toString(), 'over tcp!');
  socket.destroy();
  stop.abort();
  const r = await run;
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /client connected from 127\.0\.0\.1/);
});

test('a bad --tcp port or --layout is a usage error; no --emulate on Linux is exit 3', async () => {
  assert.is((await runInProcess(['serial', '--emulate', '--tcp', '99999'])).code, 2);
  assert.is((await runInProcess(['serial', '--emulate', '--layout', 'usbser'])).code, 2);
  assert.is((await runInProcess(['serial'])).code, 3);
});

test.run();
