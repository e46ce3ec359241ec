/**
 * Question: what does a control request cost through usbfn, beside the same exchange done with
 * bare IOCTLs on the same transport?
 *
 * The host (the emulator's SimulatedHost) sends a vendor IN request (wLength 64) and the device
 * answers 16 bytes: setup → data stage → status handshake, one request at a time. 'usbfn':
 * UsbFnDevice with `control.handle()` returning the reply (ControlChannel → SetupRequest →
 * GenericUsbFnDriver). 'bare': no usbfn code, a loop of raw IOCTLs on the same emulator:
 * BUS_EVENT_NOTIFICATION, decode, TRANSFER_IN on pipe 0, CONTROL_STATUS_HANDSHAKE_OUT, next
 * notification. Per round trip wall-clock µs (median and p99) and CPU µs, fresh process per
 * kind and run, the kinds alternating; the goal is usbfn ≤ 2× bare. Wall-clock latency is what
 * a host sees; on a loaded machine compare the ratios, not the figures.
 */
import { GenericUsbFnDriver, UsbFnDevice } from '../lib/index.js';
import { EmulatedGenericUsbFn } from '../lib/driver/emulator/index.js';
import { decodeNotification } from '../native-defs/codec-notification.js';
import { encodePipeId } from '../native-defs/codec-core.js';
import { UsbFnEvent } from '../native-defs/enums.js';
import * as IOCTL from '../native-defs/ioctl.js';
import { atMost, isMain, percentile, type Section, type SectionOptions, type SectionResult } from './section.js';
import { childConfig, runChild, summarize } from './stream-stack.js';
import { fileURLToPath } from 'node:url';

type Kind = 'usbfn' | 'bare';
interface Config { kind: Kind; count: number }
interface Sample { medianUs: number; p99Us: number; cpuUs: number }

const REPLY = Buffer.from('usbfn control 16');
const SETUP = { bmRequestType: 0xc0, bRequest: 0x01, wValue: 0, wIndex: 0, wLength: 64 };
/** Gross-regression ceiling for --quick: usbfn CPU ÷ bare CPU per round trip (steadier than latency on a loaded machine; measured 2.2–3.0). */
const QUICK_CEILING = 8;
/** Issue 12's goal (reported without --quick). */
const GOAL = 2;

/** The device side with raw IOCTLs only: answers every setup packet with REPLY. Resolves when the device closes. */
async function bareDevice(device: EmulatedGenericUsbFn): Promise<void> {
  await device.ioctl(IOCTL.IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null);
  const event = new Uint8Array(12);
  const ep0 = encodePipeId(0);
  for (;;) {
    try {
      await device.ioctl(IOCTL.IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, event);
    } catch {
      return; // closed
    }
    const n = decodeNotification(event);
    if (n.event !== UsbFnEvent.SetupPacket) continue;
    await device.ioctl(IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN, ep0, REPLY);
    await device.ioctl(IOCTL.IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, ep0, null);
  }
}

async function child(c: Config): Promise<Sample> {
  const emulated = new EmulatedGenericUsbFn();
  let close: () => Promise<unknown>;
  if (c.kind === 'bare') {
    const loop = bareDevice(emulated);
    close = async () => (await emulated.close(), await loop);
  } else {
    const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated) });
    device.control.handle({ type: 'vendor', request: 0x01 }, () => REPLY);
    close = () => device.close();
  }
  await emulated.host.enumerate({ speed: 'high' });
  const roundTrip = async () => {
    const reply = await emulated.host.controlTransfer(SETUP);
    if (reply.length !== REPLY.length) throw new Error(`reply of ${reply.length} bytes`);
  };
  for (let i = 0; i < Math.ceil(c.count / 4); i++) await roundTrip(); // warm-up
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < c.count; i++) {
    const t0 = performance.now();
    await roundTrip();
    times.push((performance.now() - t0) * 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  await close();
  return { medianUs: percentile(times, 50), p99Us: percentile(times, 99), cpuUs: (cpu.user + cpu.system) / c.count };
}

async function run(o: SectionOptions): Promise<SectionResult> {
  const count = o.quick ? 300 : 5000;
  const samples: Record<Kind, Sample[]> = { usbfn: [], bare: [] };
  const script = fileURLToPath(import.meta.url);
  for (let r = 0; r < o.runs; r++) for (const kind of ['usbfn', 'bare'] as Kind[]) samples[kind].push(runChild<Sample>(script, { kind, count }));
  const med = (kind: Kind, key: keyof Sample) => summarize(samples[kind].map((s) => s[key])).median;
  const ratio = { median: med('usbfn', 'medianUs') / med('bare', 'medianUs'), p99: med('usbfn', 'p99Us') / med('bare', 'p99Us'), cpu: med('usbfn', 'cpuUs') / med('bare', 'cpuUs') };
  const row = (kind: Kind) => `${kind.padEnd(6)} | ${med(kind, 'medianUs').toFixed(1).padStart(9)} | ${med(kind, 'p99Us').toFixed(1).padStart(9)} | ${med(kind, 'cpuUs').toFixed(1).padStart(8)}`;
  const lines = [
    `vendor IN request, 16 B reply; ${count} round trips per run, ${o.runs} run(s) per kind (fresh processes, alternating); medians of the runs`,
    'kind   | median µs |    p99 µs |   CPU µs',
    row('usbfn'),
    row('bare'),
    `usbfn ÷ bare: median ${ratio.median.toFixed(2)}, p99 ${ratio.p99.toFixed(2)} (goal ≤ 2), CPU ${ratio.cpu.toFixed(2)}`,
  ];
  return {
    title: 'Control round trip (setup → answer → handshake) vs bare IOCTLs',
    lines,
    data: { count, runs: o.runs, samples, ratio },
    checks: [o.quick
      ? atMost('control round trip usbfn ÷ bare (CPU)', ratio.cpu, QUICK_CEILING)
      : atMost('control round trip usbfn ÷ bare (median)', ratio.median, GOAL)],
  };
}

export const controlRoundTrip: Section = { name: 'control-roundtrip', run };

const config = isMain(import.meta.url) ? childConfig<Config>() : null;
if (config) console.log(JSON.stringify(await child(config)));
