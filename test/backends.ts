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
import { wineBackend } from './wine/backend.js';

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

/**
 * Far-end behaviours a backend's path may be unable to produce. A test that needs one is
 * registered as skipped on such a backend (uvu counts it), the reason kept in `cannot`.
 */
export type Capability =
  /** A completion reporting more bytes than the output buffer holds (a malformed driver). */
  | 'overlong-byte-count'
  /** Output data and a byte count delivered with an error status (METHOD_OUT_DIRECT, e.g. a read cancelled by a bus reset after some packets). */
  | 'data-with-error-completion'
  /** Streams of 64 MiB and more within a test's time: a volume check, not a behaviour. */
  | 'bulk-volume';

export interface TestBackend {
  name: string;
  /** Why this backend cannot run here; suites print it and skip. */
  skip?: string;
  /** What this path cannot produce, with why. */
  cannot?: Partial<Record<Capability, string>>;
  create(emulatorOptions?: EmulatorOptions, driverOptions?: GenericUsbFnDriverOptions): Promise<BackendStack>;
}

/** GenericUsbFnDriver straight on the emulator. */
/** True when `backend` can produce every one of `needs` (else the test is registered as skipped). */
export function can(backend: TestBackend, ...needs: Capability[]): boolean {
  return needs.every((n) => backend.cannot?.[n] === undefined);
}

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
 * `npm run test:wine` sets USBFN_BACKENDS=wine: then only the Wine path (test/wine/backend.ts)
 * runs, under Windows node.exe, through Wine's I/O manager and usbfn-broker.sys.
 */
export const backends: TestBackend[] = process.env.USBFN_BACKENDS === 'wine' ? [wineBackend] : [emulatorBackend, standinBackend];
