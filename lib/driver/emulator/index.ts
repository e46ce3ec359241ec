/**
 * usbfn/emulator: GenericUSBFn.sys in process, and the USB host at the other end of the cable.
 * Test your own USB function on any OS, byte for byte as Windows would run it.
 *
 * ```ts
 * import { EmulatedGenericUsbFn } from 'usbfn/emulator';
 * const device = new EmulatedGenericUsbFn({ endpoints: [{ address: 0x81 }, { address: 0x01 }] });
 * // hand `device` to the driver as its IoctlDevice (it issues ACTIVATE), then play the host:
 * await device.host.enumerate({ speed: 'high' });
 * await device.host.bulkOut(0x01, bytes);            // host → device, as packets
 * const reply = await device.host.bulkIn(0x81, 512); // device → host, until short packet/ZLP/512
 * const data = await device.host.controlTransfer({ bmRequestType: 0xa1, bRequest: 1, wValue: 0, wIndex: 0, wLength: 64 });
 * await device.close();
 * ```
 *
 * Pipe ids: EP0 is pipe 0 (PipeArr[0]) at every speed; data endpoints get 1, 2, 3… in the order
 * of `options.endpoints`, the same at every speed.
 *
 * Choices where GenericUSBFn.sys is undocumented (each an option where the spec says *open*):
 * - Codes the driver does not define fail with ERROR_INVALID_PARAMETER (87).
 * - Checks run in this order: buffer sizes and pipe id (87, or 122 for too small an output
 *   struct), then state (ERROR_BAD_COMMAND 22), then a halted pipe (31).
 * - ACTIVATE twice succeeds. GET_CLASS_INFO(_EX) and BUS_EVENT_NOTIFICATION work before ACTIVATE.
 * - A device transfer issued on a halted pipe fails with ERROR_GEN_FAILURE (31); transfers
 *   already pending when it halts stay queued and move once the halt clears.
 * - OUT overflow (a packet larger than the space left in TRANSFER_OUT's buffer, e.g. a buffer
 *   that is not a multiple of wMaxPacketSize): the request fails with 31, bytesReturned = what
 *   fitted before that packet; the packet is lost (the host saw it ACKed), as with babble.
 *   The host-side twin: bulkIn rejects with USBFN_ERR_MALFORMED.
 * - A 0-byte TRANSFER_OUT waits for one packet: a ZLP completes it with 0, data overflows.
 * - GET_INTERFACE_DESCRIPTOR_SET takes a 12-byte USBFN_INTERFACE_INFO input (87 if shorter,
 *   or for another interface number or a speed other than Full/High/Super). Too small an output
 *   fails with 122 and, if the output holds at least the 12-byte header, InterfaceNumber, Speed
 *   and Size are written into it. The super-speed set includes SuperSpeed endpoint companions.
 *   `extraDescriptors` are appended after the endpoint descriptors.
 * - Bus events with no notification pending queue FIFO up to `eventQueueLimit` (256); past it
 *   the oldest is dropped, counted (`droppedEvents`) and debug-logged.
 * - EP0: the status handshake waits for the data stage to end; a handshake in the wrong
 *   direction, a second handshake, or any EP0 request outside a forwarded setup is 22.
 *   TRANSFER_IN beyond wLength in total is 87. The host is always ready on EP0, so data moves
 *   as soon as it is queued; once the data stage has ended (wLength bytes, short packet or
 *   ZLP) a fully sent TRANSFER_IN completes (a ZLP it still owed is not needed), and further
 *   EP0 transfers are 22.
 *   EP0 TRANSFER_OUT completes once the host's wLength bytes are in, even without a short packet.
 *   Stalling EP0 mid-request completes the device's pending EP0 requests with 995.
 * - Standard requests (GET_DESCRIPTOR string, GET/SET_CONFIGURATION, GET/SET_INTERFACE,
 *   GET_STATUS, CLEAR/SET_FEATURE(ENDPOINT_HALT), SET_ADDRESS) are answered by the emulator;
 *   other standard requests (device/configuration descriptors: UFX's job) stall. String 0
 *   defaults to LANGID 0x0409 unless registered. Class and vendor requests addressed to another
 *   interface or to an endpoint the interface does not declare stall (as FunctionFS stalls them);
 *   those to the device or to "other" are forwarded as sent (as FunctionFS forwards them with
 *   FUNCTIONFS_ALL_CTRL_RECIP).
 * - SET_CONFIGURATION (also when already configured) clears halts and posts Configured, and
 *   does not cancel transfers; SET_INTERFACE only posts SetInterface (alternate settings share
 *   one pipe set). Suspend keeps transfers pending; no packets move until Resume.
 * - Completions run in one batch per event-loop turn (setImmediate), FIFO.
 * - A reset, unconfigure or detach that cancels device data transfers while the device waits
 *   for bus events refuses new data transfers (22) until the device asks for its next event:
 *   a host that configures again in the same instant cannot receive a transfer issued before
 *   the device processed the loss (on a real bus, re-enumeration takes milliseconds).
 *
 * - Bus time: none by default. `link: 'timed'` models each data pipe's time on the wire at the
 *   enumerated speed's bulk ceiling (high speed 13 × 512 B per 125 µs = 53.248 MB/s; SuperSpeed
 *   474.9 MB/s, arithmetic in link-model.ts) plus the device's turnaround (`turnaroundUs`),
 *   read through `linkStats(endpointAddress)`; data moves exactly as without it.
 *
 * Not modelled: several interfaces or alternate pipe sets, isochronous endpoints, bus timing
 * beyond the optional link model (frames, interrupt intervals, bandwidth shared between pipes,
 * EP0), data toggles and retries, low-speed packet limits,
 * remote wakeup, USB 3 streams/bursts, the device and configuration descriptors, SET_ADDRESS
 * effects, and DEACTIVATE_USB_BUS (always ERROR_NOT_SUPPORTED, as documented).
 */
export { EmulatedGenericUsbFn, type FaultSpec, type PendingFilter, type EmulatedGenericUsbFnEvents } from './emulated-device.js';
export { SimulatedHost, type EnumerateOptions, type ControlTransferOptions, type BulkOutOptions, type BulkInOptions } from './host.js';
export type { EmulatedDeviceState } from './core.js';
export { LINK_RATES, linkUtilisation, type LinkModelOptions, type LinkRate, type LinkStats } from './link-model.js';
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
export {
  FaultInjector,
  FAULT_KINDS,
  DEFAULT_IOCTL_ERRORS,
  type FaultKind,
  type FaultInjectorOptions,
  type IoctlErrorChoice,
  type IoctlTrigger,
} from './faults.js';
export { createPrng, type Prng } from './prng.js';
