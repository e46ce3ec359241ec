/**
 * Opens the device a command works on: the emulator (`--emulate`: the in-process GenericUSBFn.sys
 * and its SimulatedHost), GenericUSBFn.sys on Windows (by `--guid`), or a clear refusal where
 * this build has no backend (Linux until the FunctionFS backend lands). Imports only what the
 * chosen path needs, so the CLI never loads koffi for the emulator.
 */
import { UsbFnDevice } from '../device/device.js';
import { GenericUsbFnDriver } from '../driver/genericusbfn/generic-driver.js';
import { EmulatedGenericUsbFn } from '../driver/emulator/emulated-device.js';
import type { SimulatedHost } from '../driver/emulator/host.js';
import type { BusSpeed } from '../driver/driver.js';
import { emulatorOptionsFor, toFunctionDescription, type InterfaceDeclaration } from '../protocols/interface-declaration.js';
import { CliError, ExitCode, usageError } from './exit-codes.js';
import { stringOption, type CommandContext } from './command.js';

/** An opened device; `host` only on the emulator. */
export interface Target {
  device: UsbFnDevice;
  host: SimulatedHost | null;
  emulated: boolean;
  /** Emulator: let the host enumerate at --speed and wait until the device is configured. Elsewhere: wait for the real host. */
  configured(): Promise<void>;
  close(): Promise<void>;
}

const SPEEDS: readonly BusSpeed[] = ['full', 'high', 'super'];

/** Opens the target the command line names; see the module comment for the failures. */
export async function openTarget(ctx: CommandContext, command: string, description: InterfaceDeclaration): Promise<Target> {
  const speed = (stringOption(ctx.values, 'speed') ?? 'high') as BusSpeed;
  if (!SPEEDS.includes(speed)) throw usageError(`--speed must be full, high or super, got ${speed}`, command);
  if (ctx.values.emulate) return openEmulated(description, speed, ctx.io.signal);
  if (ctx.io.platform === 'win32') {
    const device = await UsbFnDevice.open({ interfaceGuid: stringOption(ctx.values, 'guid') ?? description.interfaceGuid, signal: ctx.io.signal });
    return { device, host: null, emulated: false, configured: () => waitConfigured(device, ctx.io.signal), close: () => device.close() };
  }
  if (ctx.io.platform === 'linux') return openFunctionFs(ctx, command, description);
  throw new CliError(ExitCode.UNAVAILABLE, `${command}: usbfn has no device backend for ${ctx.io.platform}`, 'add --emulate to run against the emulated host', 'USBFN_ERR_PLATFORM');
}

/**
 * Linux: the FunctionFS backend, on an existing mount (--ffs DIR) or a gadget usbfn creates
 * (--gadget). Without either, a coded refusal saying what to give. The target shape is the
 * FunctionFS backend's (`UsbFnDevice.open({ functionfs })`); a build without that backend
 * refuses it in the platform opener with USBFN_ERR_PLATFORM.
 */
async function openFunctionFs(ctx: CommandContext, command: string, description: InterfaceDeclaration): Promise<Target> {
  const mountPoint = stringOption(ctx.values, 'ffs');
  if (mountPoint === undefined && !ctx.values.gadget) {
    throw new CliError(
      ExitCode.UNAVAILABLE,
      `${command}: on Linux, say which FunctionFS instance to use`,
      'give --ffs <mount point> (see `usbfn list`), or --gadget as root to let usbfn create one; or add --emulate to try the command against the emulated host',
      'USBFN_ERR_PLATFORM',
    );
  }
  const functionfs = { mountPoint, function: toFunctionDescription(description) };
  const device = await UsbFnDevice.open({ ...({ functionfs } as object), signal: ctx.io.signal });
  return { device, host: null, emulated: false, configured: () => waitConfigured(device, ctx.io.signal), close: () => device.close() };
}

async function openEmulated(description: InterfaceDeclaration, speed: BusSpeed, signal: AbortSignal): Promise<Target> {
  const emu = new EmulatedGenericUsbFn(emulatorOptionsFor(description));
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emu) });
  return {
    device,
    host: emu.host,
    emulated: true,
    configured: async () => {
      const seen = waitConfigured(device, signal);
      await emu.host.enumerate({ speed });
      await seen;
    },
    close: () => device.close(),
  };
}

/** Resolves once the host has configured the device; Ctrl-C while waiting is exit 130. */
function waitConfigured(device: UsbFnDevice, signal: AbortSignal): Promise<void> {
  if (device.configured) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      device.off('configured', onConfigured);
      reject(new CliError(ExitCode.INTERRUPTED, 'interrupted while waiting for the host to configure the device'));
    };
    const onConfigured = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    if (signal.aborted) return onAbort();
    device.once('configured', onConfigured);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
