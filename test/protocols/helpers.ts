/** Shared by the protocol suites: a UsbFnDevice on the emulator, presenting a InterfaceDeclaration, enumerated. */
import { GenericUsbFnDriver, UsbFnDevice } from '../../lib/index.js';
import { EmulatedGenericUsbFn, type SimulatedHost } from '../../lib/driver/emulator/index.js';
import { emulatorOptionsFor, type InterfaceDeclaration } from '../../lib/protocols/interface-declaration.js';

export interface EmulatedStack {
  device: UsbFnDevice;
  emu: EmulatedGenericUsbFn;
  host: SimulatedHost;
  close(): Promise<void>;
}

const open = new Set<EmulatedStack>();

/** Opens the device on the emulator and lets the host enumerate it (unless `enumerate` is false). */
export async function openEmulated(description: InterfaceDeclaration, enumerate = true): Promise<EmulatedStack> {
  const emu = new EmulatedGenericUsbFn(emulatorOptionsFor(description));
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emu) });
  const stack: EmulatedStack = {
    device,
    emu,
    host: emu.host,
    close: async () => {
      open.delete(stack);
      await device.close();
    },
  };
  open.add(stack);
  if (enumerate) await configure(stack);
  return stack;
}

/** Enumerates and waits until the device has seen 'configured'. */
export async function configure(stack: EmulatedStack): Promise<void> {
  const seen = stack.device.configured ? Promise.resolve() : new Promise<void>((resolve) => stack.device.once('configured', () => resolve()));
  await stack.host.enumerate({ speed: 'high' });
  await seen;
}

/** Closes whatever a test left open (a failed assertion must not leave a device behind). */
export async function closeAll(): Promise<void> {
  await Promise.allSettled([...open].map((s) => s.close()));
}

/** A class request to interface 0 (bmRequestType 0x21 / 0xA1). */
export function classSetup(direction: 'in' | 'out', bRequest: number, wLength: number, wValue = 0) {
  return { bmRequestType: (direction === 'in' ? 0x80 : 0) | 0x21, bRequest, wValue, wIndex: 0, wLength };
}

/** Deterministic pseudo-random bytes (the stream suites' pattern), so a failure is reproducible. */
export { patternBytes as pattern } from '../pattern.js';
