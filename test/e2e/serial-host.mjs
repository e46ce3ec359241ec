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

/** ECHO_BYTES of pseudo-random data written while the echo is read back; compared byte for byte. */
async function checkEcho(port) {
  const sent = crypto.randomBytes(ECHO_BYTES); // every byte value, including XON/XOFF, CR, NUL
  const received = Buffer.alloc(ECHO_BYTES);
  let got = 0;
  const start = Date.now();
  const done = new Promise((resolve) => {
    const onData = (chunk) => {
      const n = Math.min(chunk.length, ECHO_BYTES - got);
      chunk.copy(received, got, 0, n);
      got += chunk.length;
      if (got >= ECHO_BYTES) port.off('data', onData), resolve();
    };
    port.on('data', onData);
  });
  for (let at = 0; at < ECHO_BYTES; at += 65536) {
    if (!port.write(sent.subarray(at, Math.min(at + 65536, ECHO_BYTES)))) await new Promise((r) => port.once('drain', r));
  }
  // A hang guard, not a time bound: give up once nothing came back for 20 s (or after 150 s).
  let lastGot = -1;
  let stalledSince = Date.now();
  const stalled = new Promise((resolve) => {
    const timer = setInterval(() => {
      if (got !== lastGot) (lastGot = got), (stalledSince = Date.now());
      if (got >= ECHO_BYTES || Date.now() - stalledSince > 20_000 || Date.now() - start > 150_000) clearInterval(timer), resolve();
    }, 1000);
  });
  const timedOut = await Promise.race([done.then(() => false), stalled.then(() => got < ECHO_BYTES)]);
  const seconds = (Date.now() - start) / 1000;
  const mib = ECHO_BYTES / 1048576;
  if (timedOut) return fail(`${mib} MiB echo`, `only ${got} bytes back (nothing more for 20 s) after ${seconds.toFixed(0)} s`);
  if (got !== ECHO_BYTES) return fail(`${mib} MiB echo`, `${got} bytes back, ${ECHO_BYTES} sent`);
  const at = sent.findIndex((b, i) => b !== received[i]);
  if (at !== -1) return fail(`${mib} MiB echo byte-exact`, `first difference at offset ${at}`);
  ok(`${mib} MiB echo through /dev/ttyACM0 is byte-exact`, `${seconds.toFixed(1)} s, ${(mib / seconds).toFixed(2)} MiB/s both ways`);
}

async function main() {
  if (!(await checkBinding())) return;
  const port = new SerialPort({ path: TTY, baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
  port.on('error', (err) => fail('serialport error', err.message));
  await new Promise((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  ok('serialport opens /dev/ttyACM0 (its Linux prebuild loaded without install scripts)');
  await checkLineCoding(port);
  await checkDtrAndSerialState(port);
  await checkEcho(port);
  await new Promise((resolve) => port.close(() => resolve()));
}

await main().catch((err) => fail('serial host program', err.stack ?? String(err)));
process.exit(0);
