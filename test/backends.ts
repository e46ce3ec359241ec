/**
 * Every backend the shared suites run against on this machine. Each builds a fresh stack whose
 * far end is the emulator's SimulatedHost, so one suite can drive the host side and check what
 * the driver sees, whatever sits between (nothing, or koffi → C stand-in → emulator).
 */
import { GenericUsbFnDriver, type GenericUsbFnDriverOptions } from '../lib/driver/genericusbfn/index.js';
import type { IoctlDevice } from '../lib/driver/genericusbfn/ioctl-device.js';
import type { UsbFnDriver } from '../lib/driver/driver.js';
import { EmulatedGenericUsbFn, type EmulatorOptions, type SimulatedHost } from '../lib/driver/emulator/index.js';
import { standinBackend } from './win32-standin/backend.js';

export interface BackendStack {
  driver: UsbFnDriver;
  /** The emulated GenericUSBFn.sys (introspection, fault injection). */
  device: EmulatedGenericUsbFn;
  host: SimulatedHost;
  /** What the driver talks to: the emulator itself, or the koffi device in front of it. */
  ioctlDevice: IoctlDevice;
  /** Closes the driver (and with it the device); idempotent. */
  close(): Promise<void>;
}

export interface TestBackend {
  name: string;
  /** Why this backend cannot run here; suites print it and skip. */
  skip?: string;
  create(emulatorOptions?: EmulatorOptions, driverOptions?: GenericUsbFnDriverOptions): Promise<BackendStack>;
}

/** GenericUsbFnDriver straight on the emulator. */
export const emulatorBackend: TestBackend = {
  name: 'emulator',
  async create(emulatorOptions, driverOptions) {
    const device = new EmulatedGenericUsbFn(emulatorOptions);
    const driver = new GenericUsbFnDriver(device, driverOptions);
    return { driver, device, host: device.host, ioctlDevice: device, close: () => driver.close() };
  },
};

/**
 * The direct emulator, then the koffi path: Win32IoctlDevice → koffi → the C stand-in of
 * kernel32 → the emulator (skipped, with the reason printed, where no C compiler exists).
 */
export const backends: TestBackend[] = [emulatorBackend, standinBackend];
