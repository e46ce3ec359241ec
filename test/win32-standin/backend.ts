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

/** How a stand-in stack differs from the plain one. */
export interface StandinStackOptions {
  /**
   * Bulk transfers on the instant native transport (Standin.setInstant): they complete at once in
   * C, never reaching the emulator; TRANSFER_OUT buffers are filled with `fill` (null: untouched).
   */
  instant?: { fill: number | null };
}

/** A stand-in stack also names its device interface (Standin.instantCounts and the like take it). */
export interface StandinBackendStack extends BackendStack {
  standinInterface: number;
}

/** GenericUsbFnDriver on Win32IoctlDevice (koffi) on the stand-in, forwarding to the emulator. */
export function standinBackendWith(options: StandinStackOptions): TestBackend {
  return {
    name: options.instant ? 'koffi-standin-instant' : 'koffi-standin',
    ...(typeof loaded === 'string' ? { skip: loaded } : {}),
    async create(emulatorOptions, driverOptions): Promise<BackendStack> {
      if (typeof loaded === 'string') throw new Error(`koffi-standin backend unavailable: ${loaded}`);
      const device = new EmulatedGenericUsbFn(emulatorOptions);
      const guid = device.options.interfaceGuid ?? DEFAULT_INTERFACE_GUID;
      const link = symbolicLink(guid);
      const id = loaded.addInterface(guid, link, device);
      let ioctlDevice: Win32IoctlDevice;
      try {
        if (options.instant) loaded.setInstant(id, true, options.instant.fill);
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
      const stack: StandinBackendStack = { driver, device, host: device.host, ioctlDevice, close, standinInterface: id };
      return stack;
    },
  };
}

/** The koffi path of the shared suites: every request reaches the emulator through the stand-in. */
export const standinBackend: TestBackend = standinBackendWith({});
