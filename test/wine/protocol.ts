/**
 * The wire format of test/wine/broker.c (usbfn-broker.sys), shared by the server and the tests.
 * Nothing here knows GenericUSBFn: the broker moves IRPs, the emulator answers them.
 */
import { ctlCode, METHOD_BUFFERED } from '../../native-defs/ioctl.js';

const FILE_DEVICE_UNKNOWN = 0x22;
const brokerCode = (fn: number) => ctlCode(FILE_DEVICE_UNKNOWN, fn, METHOD_BUFFERED, 0);

/** Server handle: pends until an event is queued; answered with HEADER_BYTES + data. */
export const IOCTL_BROKER_GET = brokerCode(0xb00);
/** Server handle: {id, status, bytes} + the data for the request's output buffer. */
export const IOCTL_BROKER_COMPLETE = brokerCode(0xb01);
/** Server handle: {code, status}: the next application IOCTL with that code fails inside dispatch. */
export const IOCTL_BROKER_FAIL_NEXT = brokerCode(0xb02);
/** Server handle: the channel's counters (BrokerStats order). */
export const IOCTL_BROKER_STATS = brokerCode(0xb03);

export const EV_REQUEST = 1;
export const EV_CANCEL = 2;
export const EV_OPEN = 3;
export const EV_CLOSE = 4;
/** Not an event: this GET's buffer was too small; header word 6 says how many bytes are needed. */
export const EV_RESIZE = 5;
export const HEADER_BYTES = 32;
/** Channels the broker exposes (CHANNELS in broker.c): one server per channel at a time. */
export const CHANNELS = 10;

export const appPath = (channel: number) => `\\\\.\\UsbFnBroker${channel}`;
export const serverPath = (channel: number) => `\\\\.\\UsbFnBrokerServer${channel}`;

/** One event from GET: {kind, id, file, code, inLen, outLen, dataLen, seq} then dataLen bytes. */
export interface BrokerEvent {
  kind: number; id: number; file: number; code: number; inLen: number; outLen: number; dataLen: number; seq: number;
  data: Uint8Array;
}

export function decodeEvent(buffer: Uint8Array, bytes: number): BrokerEvent {
  if (bytes < HEADER_BYTES) throw new Error(`broker GET returned ${bytes} bytes, less than a header`);
  const v = new DataView(buffer.buffer, buffer.byteOffset, HEADER_BYTES);
  const word = (i: number) => v.getUint32(i * 4, true);
  const dataLen = word(6);
  const kind = word(0);
  const available = Math.min(dataLen, bytes - HEADER_BYTES); // never trust a length beyond the buffer
  return {
    kind, id: word(1), file: word(2), code: word(3), inLen: word(4), outLen: word(5), dataLen, seq: word(7),
    data: kind === EV_RESIZE ? new Uint8Array(0) : buffer.slice(HEADER_BYTES, HEADER_BYTES + available),
  };
}

/** The channel's counters (struct stats in broker.c). */
export interface BrokerStats {
  appFilesOpen: number; irpsPending: number; requests: number; delivered: number;
  cancelRoutines: number; droppedByClose: number; syncFailures: number; serverConnected: number;
}
export const STATS_NAMES: (keyof BrokerStats)[] = ['appFilesOpen', 'irpsPending', 'requests', 'delivered',
  'cancelRoutines', 'droppedByClose', 'syncFailures', 'serverConnected'];

/**
 * The NTSTATUS a driver completes with for each Win32 error the emulator reports: the one
 * RtlNtStatusToDosError maps back to it (checked against the running ntdll by the server).
 * Others travel as FACILITY_NTWIN32 statuses (0xC007xxxx), which map back to their low word.
 */
export const NTSTATUS_FOR_WIN32: Readonly<Record<number, number>> = {
  1: 0xc0000010, // ERROR_INVALID_FUNCTION ← STATUS_INVALID_DEVICE_REQUEST
  22: 0xc0000184, // ERROR_BAD_COMMAND ← STATUS_INVALID_DEVICE_STATE
  31: 0xc0000001, // ERROR_GEN_FAILURE ← STATUS_UNSUCCESSFUL
  50: 0xc00000bb, // ERROR_NOT_SUPPORTED ← STATUS_NOT_SUPPORTED
  87: 0xc000000d, // ERROR_INVALID_PARAMETER ← STATUS_INVALID_PARAMETER
  122: 0xc0000023, // ERROR_INSUFFICIENT_BUFFER ← STATUS_BUFFER_TOO_SMALL
  995: 0xc0000120, // ERROR_OPERATION_ABORTED ← STATUS_CANCELLED
  1167: 0xc000009d, // ERROR_DEVICE_NOT_CONNECTED ← STATUS_DEVICE_NOT_CONNECTED
};
export const ntWin32Status = (errno: number) => (0xc0070000 | (errno & 0xffff)) >>> 0;
