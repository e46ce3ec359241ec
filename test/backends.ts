/**
 * Every backend the shared suites run against on this machine. Each builds a fresh stack whose
 * far end is the emulator's SimulatedHost, so one suite can drive the host side and check what
 * the driver sees, whatever sits between (nothing, or koffi → C stand-in → emulator).
 */
import { GenericUsbFnDriver } from '../lib/driver/genericusbfn/index.js';
import { EmulatedGenericUsbFn } from '../lib/driver/emulator/index.js';
import type { TestBackend } from './backend-types.js';
import { standinBackend } from './win32-standin/backend.js';
import { wineBackend } from './wine/backend.js';

export { can, type BackendStack, type Capability, type TestBackend } from './backend-types.js';

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
 * `npm run test:wine` sets USBFN_BACKENDS=wine: then only the Wine path (test/wine/backend.ts)
 * runs, under Windows node.exe, through Wine's I/O manager and usbfn-broker.sys.
 */
export const backends: TestBackend[] = process.env.USBFN_BACKENDS === 'wine' ? [wineBackend] : [emulatorBackend, standinBackend];
