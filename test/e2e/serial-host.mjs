/**
 * The host side of the serial scenario in the end-to-end VM: the kernel's cdc_acm driver and
 * the npm `serialport` package (a real client we did not write) against usbfn's serial function.
 * Prints one "ok <check>" / "FAIL <check>: why" line per check (test/e2e/run.sh counts them).
 *
 *   node serial-host.mjs <event log> [echo bytes]
 *
 * The event log is the gadget's (JSON lines: linecoding, controllines), read to check that what
 * the host set arrived. The gadget answers DTR with SERIAL_STATE (DCD+DSR follow DTR) and
 * echoes every byte. Plain JavaScript so that it runs on the host's node without a compile step.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { SerialPort } from 'serialport';

const [eventLog, bytesArg = String(16 * 1024 * 1024), serialStateArg = 'serial-state'] = process.argv.slice(2);
/** `usbfn serial` sends no SERIAL_STATE of its own: 'no-serial-state' leaves those checks out. */
const CHECK_SERIAL_STATE = serialStateArg !== 'no-serial-state';
const ECHO_BYTES = Number(bytesArg);
const TTY = '/dev/ttyACM0';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ok = (check, detail = '') => console.log(`ok ${check}${detail ? ` (${detail})` : ''}`);
const fail = (check, why) => console.log(`FAIL ${check}: ${why}`);

/** Polls `probe` until it returns a truthy value or `ms` pass; returns the value or undefined. */
async function waitFor(probe, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) return undefined;
    await sleep(50);
  }
}

/** The log's JSON lines; the CLI's --json notes name the same things lineCoding / controlLines. */
function events() {
  if (!fs.existsSync(eventLog)) return [];
  const lines = fs.readFileSync(eventLog, 'utf8').split('\n').filter((l) => l.startsWith('{'));
  return lines.map((l) => JSON.parse(l)).map((e) => ({ ...e, linecoding: e.linecoding ?? e.lineCoding, controllines: e.controllines ?? e.controlLines }));
}
const read = (file) => fs.readFileSync(file, 'utf8').trim();

/** cdc_acm, not a new_id trick: the driver link of the tty's interface, and what that interface is. */
async function checkBinding() {
  const tty = await waitFor(() => fs.existsSync(TTY), 30_000);
  if (!tty) return fail('cdc_acm binds the serial function (/dev/ttyACM0 appears)', `no ${TTY} after 30 s`), false;
  const intf = fs.realpathSync('/sys/class/tty/ttyACM0/device');
  const driver = path.basename(fs.realpathSync(path.join(intf, 'driver')));
  const triple = ['bInterfaceClass', 'bInterfaceSubClass', 'bInterfaceProtocol', 'bNumEndpoints'].map((f) => read(path.join(intf, f))).join(' ');
  const eps = fs.readdirSync(intf).filter((e) => e.startsWith('ep_')).map((e) => `${e.slice(3)}:${read(path.join(intf, e, 'type'))}`).join(' ');
  const newIds = read('/sys/bus/usb/drivers/cdc_acm/new_id');
  if (driver !== 'cdc_acm') return fail('cdc_acm binds the serial function', `bound to ${driver}`), false;
  if (newIds !== '') return fail('cdc_acm binds without new_id', `new_id holds ${newIds}`), false;
  ok('cdc_acm binds the serial function without new_id', `interface ${path.basename(intf)} class/sub/proto/eps ${triple}; endpoints ${eps}`);
  return true;
}

const lastEvent = (key) => events().filter((e) => e[key] !== undefined).at(-1)?.[key];
const sameCoding = (a, b) => a && a.baudRate === b.baudRate && a.dataBits === b.dataBits && a.parity === b.parity && a.stopBits === b.stopBits;

async function checkLineCoding(port) {
  const want = { baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 };
  const seen = await waitFor(() => sameCoding(lastEvent('linecoding'), want), 10_000);
  if (seen) ok('serialport opens at 115200 8N1: the device sees SET_LINE_CODING 115200 8N1');
  else fail('the device sees SET_LINE_CODING 115200 8N1', `last seen ${JSON.stringify(lastEvent('linecoding'))}`);
  await port.update({ baudRate: 9600 });
  const changed = await waitFor(() => sameCoding(lastEvent('linecoding'), { ...want, baudRate: 9600 }), 10_000);
  if (changed) ok('port.update({ baudRate: 9600 }) reaches the device as SET_LINE_CODING 9600');
  else fail('port.update({ baudRate: 9600 }) reaches the device', `last seen ${JSON.stringify(lastEvent('linecoding'))}`);
  await port.update({ baudRate: 115200 });
}

const modemLines = (port) => new Promise((resolve, reject) => port.get((err, s) => (err ? reject(err) : resolve(s))));
const setLines = (port, lines) => new Promise((resolve, reject) => port.set(lines, (err) => (err ? reject(err) : resolve())));

/**
 * DTR through TIOCMBIS / TIOCMBIC on serialport's own fd (koffi, a dependency of usbfn).
 * Why not serialport's set(): it always issues TIOCCBRK/TIOCSBRK before TIOCMSET, and cdc_acm
 * refuses a break with EOPNOTSUPP when the interface advertises no USB_CDC_CAP_BRK (no ACM
 * functional descriptor, which FunctionFS will not carry), so set() fails as a whole.
 */
let ioctl;
async function setDtr(port, dtr) {
  if (!ioctl) {
    const { default: koffi } = await import('koffi');
    ioctl = koffi.load('libc.so.6').func('int ioctl(int fd, unsigned long request, ...)');
  }
  const TIOCMBIS = 0x5416, TIOCMBIC = 0x5417, TIOCM_DTR = 0x002;
  if (ioctl(port.port.fd, dtr ? TIOCMBIS : TIOCMBIC, 'int *', [TIOCM_DTR]) !== 0) throw new Error(`ioctl ${dtr ? 'TIOCMBIS' : 'TIOCMBIC'} DTR failed`);
}

/** serialport's set() on this layout: recorded as a note line (not a check), what it says is in the report. */
async function noteSerialportSet(port) {
  const outcome = await setLines(port, { dtr: true, rts: true }).then(() => 'works', (err) => `refused: ${err.message}`);
  console.log(`note serialport set({ dtr, rts }) ${outcome}`);
  return outcome === 'works';
}

/** DTR off then on: the device must see each, and answer with SERIAL_STATE the host reads back (TIOCMGET). */
async function checkDtrAndSerialState(port) {
  const setWorks = await noteSerialportSet(port);
  for (const dtr of [false, true]) {
    if (setWorks) await setLines(port, { dtr, rts: true });
    else await setDtr(port, dtr);
    const seen = await waitFor(() => lastEvent('controllines')?.dtr === dtr, 10_000);
    const how = setWorks ? "serialport's set()" : 'TIOCMBIS/TIOCMBIC on the serialport fd';
    if (seen) ok(`DTR ${dtr ? 'on' : 'off'} (${how}): the device sees SET_CONTROL_LINE_STATE dtr=${dtr}`);
    else fail(`the device sees DTR ${dtr ? 'on' : 'off'}`, `last seen ${JSON.stringify(lastEvent('controllines'))}`);
    if (!CHECK_SERIAL_STATE) continue;
    const state = await waitFor(async () => { const s = await modemLines(port); return s.dcd === dtr && s.dsr === dtr ? s : undefined; }, 10_000);
    if (state) ok(`SERIAL_STATE DCD/DSR ${dtr ? 'set' : 'cleared'} by the device reads back through serialport's get()`, JSON.stringify(state));
    else fail(`serialport's get() shows the SERIAL_STATE change (dcd=dsr=${dtr})`, JSON.stringify(await modemLines(port)));
  }
}

/**
 * What the port has received so far, in order: `got` bytes in `received`, and a promise for the
 * next arrival (the echo waits on it while its window is full).
 */
function collector(port, capacity) {
  const c = { received: Buffer.alloc(capacity), got: 0, wake: null };
  c.onData = (chunk) => {
    chunk.copy(c.received, c.got, 0, Math.min(chunk.length, capacity - c.got));
    c.got += chunk.length;
    c.wake?.();
  };
  c.next = () => new Promise((resolve) => (c.wake = resolve));
  port.on('data', c.onData);
  return c;
}

/**
 * Resolves once `c` holds `n` bytes, or (a hang guard, not a time bound) once nothing came for
 * `quietMs`; resolves true when all came.
 */
function arrived(c, n, quietMs) {
  return new Promise((resolve) => {
    let last = -1;
    let since = Date.now();
    const timer = setInterval(() => {
      if (c.got !== last) (last = c.got), (since = Date.now());
      if (c.got >= n || Date.now() - since > quietMs) clearInterval(timer), resolve(c.got >= n);
    }, 200);
  });
}

/** Why a stalled echo stalled: what reached the tty, and whether what came so far matches what was sent. */
function stallReport(port, c, sent, written) {
  const at = sent.subarray(0, c.got).findIndex((b, i) => b !== c.received[i]);
  const FIONREAD = 0x541b;
  const queued = [0];
  if (ioctl) ioctl(port.port.fd, FIONREAD, 'int *', queued);
  const order = at === -1 ? 'all in order so far' : `bytes lost or changed: first difference at offset ${at}`;
  return `only ${c.got} of ${sent.length} bytes back, ${written} written; ${queued[0]} unread in the tty; ${order}`;
}

/**
 * 20 whole packets (one cdc_acm URB, no short packet after it) and nothing behind them must come
 * back on their own: a device that reads more than a packet at a time keeps them until more data
 * comes, and this request/response would never get its response.
 */
async function checkWholePackets(port) {
  const n = 10240;
  const sent = crypto.randomBytes(n);
  const c = collector(port, n);
  port.write(sent);
  const all = await arrived(c, n, 10_000);
  port.off('data', c.onData);
  if (!all) return fail(`a ${n}-byte write (whole packets, no short packet) echoes back on its own`, stallReport(port, c, sent, n)), false;
  if (!c.received.equals(sent)) return fail(`a ${n}-byte write echoes back byte-exact`, 'the bytes differ'), false;
  ok(`a ${n}-byte write (20 whole packets, no short packet) echoes back on its own, byte-exact`);
  return true;
}

/**
 * ECHO_BYTES of pseudo-random data (every byte value: XON/XOFF, CR, NUL) written in 10240-byte
 * writes (whole packets) while the echo is read back, compared byte for byte. At most WINDOW
 * bytes are unanswered at any time. Why a window: cdc_acm puts what it receives into the tty's
 * flip buffers and ignores their limit (640 KiB in Linux 6.1: tty_insert_flip_string() drops
 * the rest), and it is throttled only once the line discipline's 4 KiB buffer is full, which
 * happens only when the tty's flush work runs: when that work falls behind the USB (a starved
 * CPU, as under TCG), bytes the device had delivered are dropped by the host. Measured here: the
 * device wrote all 16 MiB (every IN transfer completed), the host read 7.9–10.4 MiB with nothing
 * left in the tty. A serial protocol must flow-control itself on this driver; so does this echo.
 * The window stays below cdc_acm's write room (16 URBs of 10240 bytes) so that a write never
 * meets EAGAIN: npm serialport (bindings-cpp 13.0.0, Poller::poll) then polls for writable
 * only and stops watching readable until the write goes through, which in an echo is never
 * (measured with a 384 KiB window: the host stopped reading, every IN transfer stayed pending).
 */
const WINDOW = 128 * 1024;
const CHUNK = 10240;
async function checkEcho(port) {
  const sent = crypto.randomBytes(ECHO_BYTES);
  const c = collector(port, ECHO_BYTES);
  const start = Date.now();
  let written = 0;
  const all = arrived(c, ECHO_BYTES, 20_000);
  let stalled = false;
  all.then((done) => (stalled = !done));
  for (let at = 0; at < ECHO_BYTES && !stalled; at += CHUNK) {
    while (at - c.got + CHUNK > WINDOW && !stalled) await Promise.race([c.next(), all]);
    const end = Math.min(at + CHUNK, ECHO_BYTES);
    if (!port.write(sent.subarray(at, end), () => (written = end))) await Promise.race([new Promise((r) => port.once('drain', r)), all]);
  }
  const done = await all;
  port.off('data', c.onData);
  const seconds = (Date.now() - start) / 1000;
  const mib = ECHO_BYTES / 1048576;
  if (!done) return fail(`${mib} MiB echo`, `${stallReport(port, c, sent, written)} (nothing more for 20 s, after ${seconds.toFixed(0)} s)`);
  if (c.got !== ECHO_BYTES) return fail(`${mib} MiB echo`, `${c.got} bytes back, ${ECHO_BYTES} sent`);
  const at = sent.findIndex((b, i) => b !== c.received[i]);
  if (at !== -1) return fail(`${mib} MiB echo byte-exact`, `first difference at offset ${at}`);
  ok(`${mib} MiB echo through /dev/ttyACM0 is byte-exact`, `${seconds.toFixed(1)} s, ${(mib / seconds).toFixed(2)} MiB/s both ways, ${WINDOW / 1024} KiB window`);
}

async function main() {
  if (!(await checkBinding())) return;
  const port = new SerialPort({ path: TTY, baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
  port.on('error', (err) => fail('serialport error', err.message));
  await new Promise((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  ok('serialport opens /dev/ttyACM0 (its Linux prebuild loaded without install scripts)');
  await checkLineCoding(port);
  await checkDtrAndSerialState(port);
  if (await checkWholePackets(port)) await checkEcho(port);
  await new Promise((resolve) => port.close(() => resolve()));
}

await main().catch((err) => fail('serial host program', err.stack ?? String(err)));
process.exit(0);
