/**
 * The koffi backend for the shared suites: GenericUsbFnDriver → Win32IoctlDevice → koffi →
 * the C stand-in's kernel32 → JS forward → EmulatedGenericUsbFn. Each stack is a fresh emulator
 * behind a fresh device interface, opened by its symbolic link with CreateFileW as on Windows.
 * Skipped, with the reason, where the stand-in cannot be built (no C compiler).
 */
import { GenericUsbFnDriver } from '../../lib/driver/genericusbfn/index.js';
import { Win32IoctlDevice } from '../../lib/driver/genericusbfn/win32-device.js';
import { EmulatedGenericUsbFn, DEFAULT_INTERFACE_GUID } from '../../lib/driver/emulator/index.js';
import type { BackendStack, TestBackend } from '../backends.js';
import { Standin } from './host.js';

let serial = 0;

/** A symbolic link shaped like GenericUSBFn's, unique per stack. */
function symbolicLink(guid: string): string {
  return `\\\\?\\USBFN#GenericUsbFn#standin&${process.pid}&${++serial}#${guid.toLowerCase()}`;
}

function standinOrSkip(): Standin | string {
  const loaded = Standin.load();
  return 'skip' in loaded ? loaded.skip : loaded;
}

const loaded = standinOrSkip();

/** GenericUsbFnDriver on Win32IoctlDevice (koffi) on the stand-in, forwarding to the emulator. */
export const standinBackend: TestBackend = {
  name: 'koffi-standin',
  ...(typeof loaded === 'string' ? { skip: loaded } : {}),
  async create(emulatorOptions, driverOptions): Promise<BackendStack> {
    if (typeof loaded === 'string') throw new Error(`koffi-standin backend unavailable: ${loaded}`);
    const device = new EmulatedGenericUsbFn(emulatorOptions);
    const link = symbolicLink(device.options.interfaceGuid ?? DEFAULT_INTERFACE_GUID);
    const id = loaded.addInterface(device.options.interfaceGuid ?? DEFAULT_INTERFACE_GUID, link, device);
    let ioctlDevice: Win32IoctlDevice;
    try {
      ioctlDevice = Win32IoctlDevice.open(link);
    } catch (err) {
      loaded.removeInterface(id);
      throw err;
    }
    const driver = new GenericUsbFnDriver(ioctlDevice, driverOptions);
    let closing: Promise<void> | undefined;
    const close = () => (closing ??= (async () => {
      await driver.close(); // closes the Win32 device: cancels, waits, closes handle (and port)
      await device.close(); // the emulator outlives the handle, as the driver outlives a handle
      loaded.removeInterface(id);
    })());
    return { driver, device, host: device.host, ioctlDevice, close };
  },
};
