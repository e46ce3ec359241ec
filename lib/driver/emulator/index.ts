/**
 * usbfn/emulator: GenericUSBFn.sys in process, and the USB host at the other end of the cable.
 *
 * ```ts
 * import { EmulatedGenericUsbFn } from 'usbfn/emulator';
 * const device = new EmulatedGenericUsbFn({ endpoints: [{ address: 0x81 }, { address: 0x01 }] });
 * // hand `device` to the driver as its IoctlDevice, then play the host:
 * await device.host.enumerate({ speed: 'high' });
 * await device.host.bulkOut(0x01, bytes);
 * const reply = await device.host.bulkIn(0x81, 512);
 * ```
 */
export { EmulatedGenericUsbFn, type FaultSpec, type PendingFilter, type EmulatedGenericUsbFnEvents } from './emulated-device.js';
export { SimulatedHost, type EnumerateOptions, type ControlTransferOptions, type BulkOutOptions, type BulkInOptions } from './host.js';
export type { EmulatedDeviceState } from './core.js';
export type { IoctlInfo, IoctlCompletion } from './completions.js';
export {
  DEFAULT_INTERFACE_GUID,
  type EmulatorOptions,
  type EmulatedEndpointConfig,
  type PacketSizes,
  type ResolvedOptions,
  type ResolvedEndpoint,
  type DescriptorSpeed,
} from './options.js';
