// A user's program against the installed package: compiled by tsc (nodenext and bundler, strict,
// no skipLibCheck, no @types beyond @types/node) and run with plain node. Prints "consumer ok".
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  UsbFnDevice, GenericUsbFnDriver, ErrorCodes, isUsbFnError, UsbFnError,
  type BulkPipe, type BulkWriter, type SetupRequest, type DeviceEvent, type BusSpeed,
} from 'usbfn';
import { EmulatedGenericUsbFn, type SimulatedHost } from 'usbfn/emulator';
import * as windows from 'usbfn/windows';
import type { OpenWin32DeviceOptions, WatchOptions, DeviceInterfaceWatcher } from 'usbfn/windows';

const emulated = new EmulatedGenericUsbFn({ endpoints: [{ address: 0x81 }, { address: 0x01 }] });
const host: SimulatedHost = emulated.host;
const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated) });
device.control.handle({ type: 'vendor', request: 0x01 }, (req: SetupRequest) => Buffer.from(`v${req.wValue}`));

const pipe: BulkPipe = device.openPipe({ zlp: 'never' });
pipe.on('data', (chunk: Buffer) => pipe.write(chunk)); // the calls a fresh project could not type-check
const configured = once(device, 'configured');
await host.enumerate({ speed: 'high' });
await configured;
const speed: BusSpeed | null = device.speed;

const version = await host.controlTransfer({ bmRequestType: 0xc0, bRequest: 0x01, wValue: 7, wIndex: 0, wLength: 8 });
await host.bulkOut(0x01, Buffer.from('ping'));
const echoed = Buffer.from(await host.bulkIn(0x81, 512)).toString();

// One stream per endpoint: the echo pipe lets go of 0x81 before a writer takes it.
pipe.destroy();
await once(pipe, 'close');
const writer: BulkWriter = device.openWriter({ in: 0x81 });
const sent = pipeline(Readable.from([Buffer.from('over '), Buffer.from('pipeline')]), writer);
const first = Buffer.from(await host.bulkIn(0x81, 512)).toString();
const second = Buffer.from(await host.bulkIn(0x81, 512)).toString();
await sent;

const events: DeviceEvent['type'][] = [];
device.on('detach', () => events.push('detach'));
host.detach();
await once(device, 'detach');
await device.close();

// usbfn/windows: every documented export is there; off Windows using it says so with a code.
const options: OpenWin32DeviceOptions & WatchOptions = { interfaceGuid: '{00000000-0000-0000-0000-000000000000}' };
const watcherType: typeof DeviceInterfaceWatcher = windows.DeviceInterfaceWatcher;
const exported = [windows.listDeviceInterfaces, windows.watchDeviceInterfaces, watcherType, windows.Win32IoctlDevice, windows.openWin32Device, windows.win32DriverOpener];
if (!exported.every((f) => typeof f === 'function')) throw new Error('usbfn/windows lacks a documented export');
let platform = 'win32';
if (process.platform !== 'win32') {
  try {
    windows.listDeviceInterfaces(options.interfaceGuid!);
  } catch (err) {
    if (!isUsbFnError(err, ErrorCodes.PLATFORM)) throw err;
    platform = (err as UsbFnError).code;
  }
}

const result = [Buffer.from(version).toString(), echoed, first + second, speed, events.join(), platform].join(' | ');
if (result !== `v7 | ping | over pipeline | high | detach | ${process.platform === 'win32' ? 'win32' : 'USBFN_ERR_PLATFORM'}`) {
  throw new Error(`unexpected: ${result}`);
}
console.log('consumer ok');
