/**
 * usbfn: act as a USB device from Node.js, each bulk pipe a stream.
 *
 * ```ts
 * import { UsbFnDevice, GenericUsbFnDriver } from 'usbfn';
 * import { EmulatedGenericUsbFn } from 'usbfn/emulator';
 *
 * const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(new EmulatedGenericUsbFn()) });
 * device.control.handle({ type: 'class', request: 0x01 }, () => Buffer.from('hello'));
 * device.on('configured', () => someReadable.pipe(device.openWriter()));
 * ```
 *
 * The emulator (and its SimulatedHost) lives on the `usbfn/emulator` subpath; discovery and the
 * Win32 device on `usbfn/windows`. Importing this entry loads no native code: the Windows
 * backend (koffi) is loaded by `UsbFnDevice.open({ interfaceGuid | path })` on first use.
 */

// The facade
export { UsbFnDevice, type UsbFnDeviceOptions } from './device/device.js';
export type { DeviceEvent, DeviceEventType, UsbFnDeviceEvents, EventIteratorOptions } from './device/device-events.js';
export type { DevicePipeOptions, PipeQuery } from './device/device-pipes.js';
export { setPlatformDriverOpener, platformDriverOpener, type PlatformDriverOpener, type PlatformTarget } from './device/open-driver.js';

// EP0
export { ControlChannel, type ControlChannelOptions, type ControlMatch, type ControlHandler, type ControlChannelEvents } from './control/control.js';
export { SetupRequest, type NoDataHandshake, type RespondOptions, type SetupRequestState } from './control/control-request.js';
export type { RequestDirection, RequestRecipient, RequestType } from '../native-defs/enums.js';
export type { SetupPacket } from '../native-defs/codec.js';

// Bulk pipes
export {
  BulkPipe,
  BulkReader,
  BulkWriter,
  BULK_PIPE_DEFAULTS,
  type BulkPipeOptions,
  type BulkStreamControls,
  type WriteTransferOptions,
  type PacketChunk,
  type PipeStats,
  type StallEvent,
  type PipeDirection,
} from './stream/bulk-pipe.js';
export type { BusLossPolicy } from './stream/bulk-pipe-options.js';

// Bus state shared by the facade, the pipes and the control channel
export { BusLink, type DeviceState, type DeconfigureReason } from './bus-link.js';

// Errors
export { UsbFnError, ErrorCodes, isUsbFnError, canceledError, type UsbFnErrorCode, type UsbFnErrorOptions } from './errors.js';

// The driver seam and the GenericUSBFn.sys backend
export {
  BUS_SPEEDS,
  type UsbFnDriver,
  type BusEvent,
  type BusEventType,
  type BusSpeed,
  type ClassInfo,
  type ClassInfoEx,
  type SpeedPipes,
  type SpeedPipesEx,
  type PipeInfo,
  type OpOptions,
  type TransferInOptions,
  type InterfaceDescriptorSet,
} from './driver/driver.js';
export { GenericUsbFnDriver, IoctlError, type GenericUsbFnDriverOptions, type IoctlDevice } from './driver/genericusbfn/index.js';

// The function description shared by every backend, and the FunctionFS target (types only:
// the FunctionFS backend itself is imported on first use by UsbFnDevice.open() on Linux).
export type { FunctionDescription, EndpointDescription, MsOsDescription, PacketSizes } from './driver/function-description.js';
export type { FunctionFsTarget } from './driver/functionfs/opener.js';
export type { GadgetOptions } from './driver/functionfs/configfs-gadget.js';
