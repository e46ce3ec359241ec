/**
 * What a backend of the shared suites is (test/backends.ts lists the ones that run here), kept
 * free of side effects so that a suite can be bundled for the end-to-end VM without the
 * stand-in's C build or Wine coming along.
 */
import type { GenericUsbFnDriverOptions } from '../lib/driver/genericusbfn/index.js';
import type { IoctlDevice } from '../lib/driver/genericusbfn/ioctl-device.js';
import type { UsbFnDriver } from '../lib/driver/driver.js';
import type { EmulatedGenericUsbFn, EmulatorOptions, SimulatedHost } from '../lib/driver/emulator/index.js';

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
  | 'bulk-volume'
  /** The test plays the bus at will: attach, reset, detach, unconfigure, suspend, raw events, any speed. */
  | 'bus-control'
  /** Looking inside the emulated driver: its pending requests, counts, injected faults. */
  | 'emulator-introspection'
  /** GenericUSBFn.sys itself: Win32 error numbers, the interface GUID and registry options, REGISTER_USB_STRING, DEACTIVATE. */
  | 'genericusbfn-specifics'
  /** A transfer issued on a halted pipe fails STALLED (GenericUSBFn.sys; FunctionFS queues it behind the halt). */
  | 'halted-transfer-fails'
  /** GET_PIPE_STATE sees the host's CLEAR_FEATURE(ENDPOINT_HALT) at once (FunctionFS learns it only when data moves). */
  | 'live-pipe-state'
  /** Setup packets reach the function as the host sent them: wIndex whole, device-recipient requests forwarded (FunctionFS keeps wIndex's low byte only and stalls those). */
  | 'setup-as-sent';

export interface TestBackend {
  name: string;
  /** Why this backend cannot run here; suites print it and skip. */
  skip?: string;
  /** What this path cannot produce, with why. */
  cannot?: Partial<Record<Capability, string>>;
  create(emulatorOptions?: EmulatorOptions, driverOptions?: GenericUsbFnDriverOptions): Promise<BackendStack>;
  /** Told each test's outcome, and each skip with its reason (the end-to-end VM counts them). */
  report?(outcome: 'ok' | 'FAIL' | 'skip', test: string, detail?: string): void;
}

/** True when `backend` can produce every one of `needs` (else the test is registered as skipped). */
export function can(backend: TestBackend, ...needs: Capability[]): boolean {
  return needs.every((n) => backend.cannot?.[n] === undefined);
}

