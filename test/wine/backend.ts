/**
 * The `wine` backend for the shared suites: GenericUsbFnDriver → Win32IoctlDevice → koffi (its
 * win32 build) → Wine's kernel32/ntdll → usbfn-broker.sys (in winedevice.exe) → BrokerServer →
 * EmulatedGenericUsbFn. Only `npm run test:wine` selects it (USBFN_BACKENDS=wine, under Wine's
 * node.exe); anywhere else it reports why it is skipped. The channel (USBFN_WINE_CHANNEL, default
 * 0) lets a child process serve its own devices while its parent serves others.
 */
import { GenericUsbFnDriver } from '../../lib/driver/genericusbfn/index.js';
import { Win32IoctlDevice } from '../../lib/driver/genericusbfn/win32-device.js';
import { EmulatedGenericUsbFn } from '../../lib/driver/emulator/index.js';
import type { BackendStack, TestBackend } from '../backends.js';
import { BrokerServer, type BrokerHandler } from './server.js';
import type { IoctlDevice } from '../../lib/driver/genericusbfn/ioctl-device.js';
import { appPath } from './protocol.js';

export const WINE_CHANNEL = Number(process.env.USBFN_WINE_CHANNEL ?? 0);

function skipReason(): string | undefined {
  if (process.platform !== 'win32') return 'not running under Wine (npm run test:wine runs this backend)';
  return undefined;
}

let server: BrokerServer | null = null;
let users = 0;
let serverClosing: Promise<void> = Promise.resolve();

/** The process's server on its channel, opened for the first stack and closed after the last. */
export async function acquireServer(): Promise<BrokerServer> {
  users++;
  if (!server) {
    await serverClosing; // the broker allows one server handle per channel
    server ??= BrokerServer.open(WINE_CHANNEL);
  }
  return server;
}

/** The channel this process's server holds (undefined when none is open). */
export function acquiredChannel(): number | undefined {
  return server?.channel;
}

export function releaseServer(): Promise<void> {
  if (--users > 0 || !server) return Promise.resolve();
  const closing = server.close();
  server = null;
  serverClosing = closing.catch(() => undefined);
  return closing;
}

/** Opens an application handle on the server's channel, served by `handler` (the emulator, or a test's fake). */
export async function openServed(handler: BrokerHandler): Promise<{ device: Win32IoctlDevice; server: BrokerServer }> {
  const s = await acquireServer();
  s.expectOpen(handler);
  try {
    return { device: Win32IoctlDevice.open(appPath(s.channel)), server: s };
  } catch (err) {
    s.forgetOpen(handler);
    await releaseServer();
    throw err;
  }
}

const reason = skipReason();

export const wineBackend: TestBackend = {
  name: 'wine',
  ...(reason ? { skip: reason } : {}),
  cannot: {
    // Wine 8.0's ntoskrnl sends back IoStatus.Information bytes of the driver's copy of the
    // output buffer: a count beyond it would read past that buffer, so the broker clamps it.
    'overlong-byte-count': 'the broker clamps Information to the output length (Wine copies that many bytes back)',
    // Wine emulates direct I/O with copies, and copies data and Information back only for a
    // success or informational status: what a driver wrote into a METHOD_OUT_DIRECT buffer
    // before completing with an error (visible on Windows, where the MDL maps the caller's
    // pages) never reaches the caller, and lpBytesReturned is 0.
    'data-with-error-completion': 'Wine 8.0 returns no output data and no byte count with an error status',
    // Every byte crosses wineserver to winedevice.exe and back (2–9 k completions/s measured):
    // the 64–100 MiB streams would take minutes and prove nothing the 4–16 MiB ones do not.
    'bulk-volume': 'streams of 64 MiB and more take minutes through Wine; the shorter stream tests run',
  },
  async create(emulatorOptions, driverOptions): Promise<BackendStack> {
    if (reason) throw new Error(`wine backend unavailable: ${reason}`);
    const device = new EmulatedGenericUsbFn(emulatorOptions);
    const { device: ioctlDevice, server: s } = await openServed(device);
    let released: Promise<void> | undefined;
    const release = () => (released ??= releaseServer());
    // Closing the handle returns before the broker (another process) has seen IRP_MJ_CLOSE:
    // the driver's close() ends once it has, as the stand-in's does inside CloseHandle. The
    // server is released with the handle: a process that closes its device (and not the
    // stack) must be left with nothing pending, as on Windows.
    const served: IoctlDevice = {
      ioctl: (code, input, output, signal) => ioctlDevice.ioctl(code, input, output, signal),
      close: async () => {
        await ioctlDevice.close();
        await s.whenClosed(device);
        await release();
      },
    };
    const driver = new GenericUsbFnDriver(served, driverOptions);
    let closing: Promise<void> | undefined;
    const close = () => (closing ??= (async () => {
      await driver.close(); // cancels, waits for every IRP, closes the handle
      await device.close();
      await release();
    })());
    return { driver, device, host: device.host, ioctlDevice, close };
  },
};
