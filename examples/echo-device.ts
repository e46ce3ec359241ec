/**
 * One device definition, run unchanged on the emulator or on Linux FunctionFS: the demo's class
 * requests (GET_VERSION, PING, SET_ECHO_LENGTH; anything else is stalled) and an echo of every
 * byte the host sends on bulk OUT 0x01 back on bulk IN 0x81.
 *
 *   tsx examples/echo-device.ts --emulator          # emulated host: enumerate, requests, echo, exit
 *   tsx examples/echo-device.ts --mount /dev/ffs-x  # an existing FunctionFS mount (bind the UDC yourself)
 *   tsx examples/echo-device.ts                     # Linux as root: usbfn creates the configfs gadget
 *                                                   # (VID 1d6b PID 0104) and binds the first UDC
 *
 * On FunctionFS it prints "echo-device: ready" once the descriptors are written (the moment a
 * script may bind the UDC when it passed --mount) and runs until SIGTERM/SIGINT or detach.
 */
import { UsbFnDevice, type UsbFnDeviceOptions } from '../lib/index.js';
import type { FunctionDescription } from '../lib/driver/function-description.js';

/** The function, declared once for every backend. */
export const ECHO_FUNCTION: FunctionDescription = {
  interfaceClass: [0xff, 0, 0],
  endpoints: [{ address: 0x81 }, { address: 0x01 }],
  interfaceString: 'usbfn echo',
};

export const REQ = { GET_VERSION: 0x01, SET_ECHO_LENGTH: 0x02, PING: 0x03 } as const;
export const VERSION = 'usbfn demo 1.0';

/** Answers the class requests and echoes bulk data until the device closes. */
export function serveEcho(device: UsbFnDevice): Promise<void> {
  device.control.handle({ type: 'class', request: REQ.GET_VERSION }, () => Buffer.from(VERSION));
  device.control.handle({ type: 'class', request: REQ.PING }, () => undefined);
  device.control.handle({ type: 'class', request: REQ.SET_ECHO_LENGTH, direction: 'hostToDevice' }, async (req) => {
    await req.receive(); // the length is informative here: the echo runs for as long as data comes
  });
  const pipe = device.openPipe({ zlp: 'never' });
  return (async () => {
    try {
      for await (const chunk of pipe) if (!pipe.write(chunk)) await new Promise((r) => pipe.once('drain', r));
    } catch (err) {
      if (!device.closed) throw err;
    }
  })();
}

function say(line: string): void {
  process.stdout.write(line + '\n');
}

async function runOnEmulator(): Promise<void> {
  const { EmulatedGenericUsbFn } = await import('../lib/driver/emulator/index.js');
  const { GenericUsbFnDriver } = await import('../lib/index.js');
  const emulator = new EmulatedGenericUsbFn(ECHO_FUNCTION);
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulator) });
  const echo = serveEcho(device);
  const host = emulator.host;
  await host.enumerate({ speed: 'high' });
  const version = await host.controlTransfer({ bmRequestType: 0xa1, bRequest: REQ.GET_VERSION, wValue: 0, wIndex: 0, wLength: 64 });
  say(`host: GET_VERSION -> ${Buffer.from(version).toString()}`);
  const data = Buffer.from('hello through usbfn');
  await host.bulkOut(0x01, data);
  const back = await host.bulkIn(0x81, data.length);
  say(`host: echo ${Buffer.from(back).equals(data) ? 'OK' : 'MISMATCH'}`);
  await device.close();
  await echo;
}

async function runOnFunctionFs(mountPoint: string | undefined): Promise<void> {
  const options: UsbFnDeviceOptions = { functionfs: { mountPoint, function: ECHO_FUNCTION } };
  const device = await UsbFnDevice.open(options);
  say('echo-device: ready');
  device.on('configured', () => say(`echo-device: configured at ${device.speed ?? 'unknown'} speed`));
  device.on('detach', () => void device.close());
  const stop = () => void device.close();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await serveEcho(device);
  await device.close();
}

const args = process.argv.slice(2);
const mountAt = args.indexOf('--mount');
if (args.includes('--emulator')) await runOnEmulator();
else await runOnFunctionFs(mountAt >= 0 ? args[mountAt + 1] : undefined);
