/**
 * One handler per IOCTL code: parse lpInBuffer / lpOutBuffer exactly as GenericUSBFn.sys lays
 * them out, check size, then state, then act. Each handler either completes the request
 * (core.complete) or queues it where the bus will complete it.
 *
 * Order of checks, the same for every code: buffer sizes and pipe id (87 / 122) first, then
 * state (ERROR_BAD_COMMAND 22), then the pipe's halt (31). METHOD_OUT_DIRECT output
 * is written in place; METHOD_IN_DIRECT "output" (TRANSFER_IN payload, SET_PIPE_STATE flag) is read.
 */
import { decodePipeId, decodeUsbString, encodeInterfaceInfo, encodeInterfaceInfoHeader } from '../../../native-defs/codec.js';
import { UsbFnBusSpeed } from '../../../native-defs/enums.js';
import * as IOCTL from '../../../native-defs/ioctl.js';
import { LAYOUT } from '../../../native-defs/layout.js';
import {
  ERROR_GEN_FAILURE,
  ERROR_INSUFFICIENT_BUFFER,
  ERROR_BAD_COMMAND,
  ERROR_INVALID_PARAMETER,
  ERROR_NOT_SUPPORTED,
  ERROR_OPERATION_ABORTED,
} from '../../../native-defs/win32-errors.js';
import type { IoctlRequest } from './completions.js';
import type { DataPipe, EmulatorCore } from './core.js';
import type { DescriptorSpeed } from './options.js';
import { Xfer } from './packet-pipe.js';

type Handler = (core: EmulatorCore, req: IoctlRequest) => void;

const EMPTY = new Uint8Array(0);
const fail = (core: EmulatorCore, req: IoctlRequest, errno: number) => core.complete(req, errno, 0);

/** The pipe id of lpInBuffer, or -1 when it is missing or shorter than a USBFNPIPEID. */
function pipeIdOf(req: IoctlRequest): number {
  return req.input && req.input.length >= LAYOUT.PIPE_ID_SIZE ? decodePipeId(req.input) : -1;
}

/** Pipe 0, a data pipe, or undefined for an id this interface does not have. */
function lookup(core: EmulatorCore, pipeId: number): 0 | DataPipe | undefined {
  return pipeId === 0 ? 0 : pipeId > 0 ? core.pipeById(pipeId) : undefined;
}

function transfer(isIn: boolean, appendZlp: boolean): Handler {
  return (core, req) => {
    const pipe = lookup(core, pipeIdOf(req));
    if (pipe === undefined || (pipe !== 0 && pipe.cfg.isIn !== isIn)) return fail(core, req, ERROR_INVALID_PARAMETER);
    if (!core.activated) return fail(core, req, ERROR_BAD_COMMAND);
    const buf = req.output ?? EMPTY;
    if (pipe === 0) {
      const errno = isIn ? core.control.transferIn(req, buf, appendZlp) : core.control.transferOut(req, buf);
      return errno === 0 ? undefined : fail(core, req, errno);
    }
    if (!core.dataAllowed) core.events.fenceLatestLoss(); // refused because of a loss: see there
    if (!core.dataAllowed || core.lossFence) return fail(core, req, ERROR_BAD_COMMAND);
    if (pipe.halted) pipe.haltUnseen = true;
    if (pipe.haltUnseen) return fail(core, req, ERROR_GEN_FAILURE);
    queueDataTransfer(core, req, pipe, buf, appendZlp);
  };
}

function queueDataTransfer(core: EmulatorCore, req: IoctlRequest, pipe: DataPipe, buf: Uint8Array, appendZlp: boolean): void {
  const { engine, cfg } = pipe;
  const zlp = cfg.isIn && (buf.length === 0 || (appendZlp && buf.length % engine.mps === 0));
  const sent = core.options.transferInBytesReturned === 'zero' ? 0 : buf.length;
  const x = new Xfer(buf, zlp, 'device',
    (_, outcome) => {
      if (outcome === 'overflow') core.complete(req, ERROR_GEN_FAILURE, x.done);
      else core.complete(req, 0, cfg.isIn ? sent : x.done);
    },
    () => core.complete(req, ERROR_OPERATION_ABORTED, x.done));
  req.cancel = () => (engine.cancel(x), x.done);
  if (cfg.isIn) engine.addSource(x);
  else engine.addSink(x);
}

function handshake(direction: 'in' | 'out'): Handler {
  return (core, req) => {
    if (pipeIdOf(req) !== 0) return fail(core, req, ERROR_INVALID_PARAMETER);
    if (!core.activated) return fail(core, req, ERROR_BAD_COMMAND);
    const errno = core.control.handshake(req, direction);
    if (errno !== 0) fail(core, req, errno);
  };
}

function classInfo(pick: (core: EmulatorCore) => Uint8Array): Handler {
  return (core, req) => {
    const out = req.output;
    if (!out || out.length < LAYOUT.CLASS_INFO_SIZE) return fail(core, req, ERROR_INSUFFICIENT_BUFFER);
    out.set(pick(core));
    core.complete(req, 0, LAYOUT.CLASS_INFO_SIZE);
  };
}

const getPipeState: Handler = (core, req) => {
  const pipe = lookup(core, pipeIdOf(req));
  if (pipe === undefined) return fail(core, req, ERROR_INVALID_PARAMETER);
  const out = req.output;
  if (!out || out.length < LAYOUT.BOOLEAN_SIZE) return fail(core, req, ERROR_INSUFFICIENT_BUFFER);
  if (core.options.pipeStateBuffer === 'exact' && out.length !== LAYOUT.BOOLEAN_SIZE) return fail(core, req, ERROR_INVALID_PARAMETER);
  if (!core.activated) return fail(core, req, ERROR_BAD_COMMAND);
  out[0] = (pipe === 0 ? core.control.halted : pipe.halted) ? 1 : 0;
  if (pipe !== 0) pipe.haltUnseen = false;
  core.complete(req, 0, LAYOUT.BOOLEAN_SIZE);
};

const setPipeState: Handler = (core, req) => {
  const pipe = lookup(core, pipeIdOf(req));
  if (pipe === undefined || !req.output || req.output.length < LAYOUT.BOOLEAN_SIZE) return fail(core, req, ERROR_INVALID_PARAMETER);
  if (!core.activated) return fail(core, req, ERROR_BAD_COMMAND);
  const stalled = req.output[0] !== 0; // METHOD_IN_DIRECT: the BOOLEAN is read from lpOutBuffer
  if (pipe === 0) core.control.setStall(stalled);
  else {
    pipe.haltUnseen = false;
    core.setHalt(pipe, stalled);
  }
  core.complete(req, 0, 0);
};

const SPEEDS: Record<number, DescriptorSpeed> = { [UsbFnBusSpeed.Full]: 'full', [UsbFnBusSpeed.High]: 'high', [UsbFnBusSpeed.Super]: 'super' };

const getInterfaceDescriptorSet: Handler = (core, req) => {
  const input = req.input;
  if (!input || input.length < LAYOUT.INTERFACE_INFO_SIZE) return fail(core, req, ERROR_INVALID_PARAMETER);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const interfaceNumber = input[0];
  const speedCode = view.getUint32(LAYOUT.INTERFACE_INFO_SPEED_OFFSET, true);
  const speed = SPEEDS[speedCode];
  if (interfaceNumber !== core.options.interfaceNumber || !speed) return fail(core, req, ERROR_INVALID_PARAMETER);
  if (!core.activated) return fail(core, req, ERROR_BAD_COMMAND);
  const info = encodeInterfaceInfo({ interfaceNumber, speed: speedCode, descriptorSet: core.descriptorSets[speed] }, core.options.interfaceInfoSizeMode);
  const out = req.output;
  if (!out || out.length < info.length) {
    // Room for the header: tell the caller how big to grow (Size, per interfaceInfoSizeMode).
    if (out && out.length >= LAYOUT.INTERFACE_INFO_SIZE) encodeInterfaceInfoHeader(interfaceNumber, speedCode, readSize(info), out as Uint8Array<ArrayBuffer>);
    return fail(core, req, ERROR_INSUFFICIENT_BUFFER);
  }
  out.set(info);
  core.complete(req, 0, info.length);
};

const readSize = (info: Uint8Array) => info[LAYOUT.INTERFACE_INFO_SIZE_OFFSET] | (info[LAYOUT.INTERFACE_INFO_SIZE_OFFSET + 1] << 8);

const registerUsbString: Handler = (core, req) => {
  if (!req.input || req.input.length < LAYOUT.USB_STRING_SIZE) return fail(core, req, ERROR_INVALID_PARAMETER);
  if (!core.activated && !core.options.registerStringBeforeActivate) return fail(core, req, ERROR_BAD_COMMAND);
  const { stringIndex, text } = decodeUsbString(req.input);
  core.strings.set(stringIndex, text);
  core.complete(req, 0, 0);
};

const busEventNotification: Handler = (core, req) => {
  if (!req.output || req.output.length < LAYOUT.NOTIFICATION_SIZE) return fail(core, req, ERROR_INSUFFICIENT_BUFFER);
  core.events.addRequest(req);
};

const activate: Handler = (core, req) => {
  core.markActivated(); // a second ACTIVATE succeeds and changes nothing
  core.complete(req, 0, 0);
};

/** The handler of each code GenericUSBFn.sys defines. Other codes fail with ERROR_INVALID_PARAMETER. */
export const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN, transfer(true, false)],
  [IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT, transfer(true, true)],
  [IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT, transfer(false, false)],
  [IOCTL.IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, handshake('in')],
  [IOCTL.IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, handshake('out')],
  [IOCTL.IOCTL_GENERICUSBFN_GET_CLASS_INFO, classInfo((c) => c.classInfo)],
  [IOCTL.IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX, classInfo((c) => c.classInfoEx)],
  [IOCTL.IOCTL_GENERICUSBFN_GET_PIPE_STATE, getPipeState],
  [IOCTL.IOCTL_GENERICUSBFN_SET_PIPE_STATE, setPipeState],
  [IOCTL.IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, activate],
  [IOCTL.IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS, (core, req) => fail(core, req, ERROR_NOT_SUPPORTED)],
  [IOCTL.IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, busEventNotification],
  [IOCTL.IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, getInterfaceDescriptorSet],
  [IOCTL.IOCTL_GENERICUSBFN_REGISTER_USB_STRING, registerUsbString],
]);

/** Codes whose lpInBuffer is a pipe id (reported in the 'ioctl' event). */
export const PIPE_ID_CODES: ReadonlySet<number> = new Set([
  IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT,
  IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT,
  IOCTL.IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN,
  IOCTL.IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT,
  IOCTL.IOCTL_GENERICUSBFN_GET_PIPE_STATE,
  IOCTL.IOCTL_GENERICUSBFN_SET_PIPE_STATE,
]);
