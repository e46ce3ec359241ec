/**
 * What happens to a setup packet before the function sees it. GenericUSBFn.sys forwards class
 * requests (and, by option, vendor ones) as SetupPacket events; the UFX stack answers the
 * standard requests itself — here, from the emulator's own state.
 */
import type { SetupPacket } from '../../../native-defs/codec.js';
import { decodeRequestType, USB_STRING_DESCRIPTOR_TYPE, type RequestRecipient } from '../../../native-defs/enums.js';
import type { EmulatorCore } from './core.js';
import { DEFAULT_LANGID_DESCRIPTOR, stringDescriptor } from './descriptors.js';

/** The emulator answers (data stage bytes, already cut to wLength), stalls, or forwards to the device. */
export type SetupDisposition = { kind: 'answer'; data: Uint8Array } | { kind: 'stall' } | { kind: 'forward' };

const STALL: SetupDisposition = { kind: 'stall' };
const FORWARD: SetupDisposition = { kind: 'forward' };
const EMPTY = new Uint8Array(0);

/** bRequest codes of USB 2.0 table 9-4. */
const Request = {
  GetStatus: 0,
  ClearFeature: 1,
  SetFeature: 3,
  SetAddress: 5,
  GetDescriptor: 6,
  GetConfiguration: 8,
  SetConfiguration: 9,
  GetInterface: 10,
  SetInterface: 11,
} as const;

/** Decides the fate of `setup`; standard requests take effect on the emulator's state here. */
export function disposeSetup(core: EmulatorCore, setup: SetupPacket): SetupDisposition {
  const t = decodeRequestType(setup.bmRequestType);
  if (t.type === 'standard') {
    const answer = answerStandard(core, setup, t.direction === 'deviceToHost');
    return answer === null ? STALL : { kind: 'answer', data: answer.subarray(0, setup.wLength) };
  }
  if (t.type === 'reserved') return STALL;
  if (t.type === 'vendor' && !core.options.forwardVendorRequests) return STALL;
  return addressesThisFunction(core, t.recipient, setup.wIndex) ? FORWARD : STALL;
}

/**
 * Whether a class or vendor request is this function's to answer, by its recipient: its own
 * interface, one of its own endpoints (wIndex's low byte an endpoint address it declares), the
 * device, or "other". A request to another interface or endpoint belongs to nobody here and is
 * stalled, as Linux's FunctionFS stalls it (f_fs.c, ffs_func_setup: EDOM). Device and "other"
 * requests are forwarded as sent, as FunctionFS forwards them with FUNCTIONFS_ALL_CTRL_RECIP
 * (which usbfn sets); GenericUSBFn.sys's documentation leaves them open.
 */
function addressesThisFunction(core: EmulatorCore, recipient: RequestRecipient, wIndex: number): boolean {
  switch (recipient) {
    case 'interface':
      return (wIndex & 0xff) === core.options.interfaceNumber;
    case 'endpoint':
      return core.pipeByAddress(wIndex & 0xff) !== undefined;
    default:
      return true;
  }
}

/** The data stage of a standard request, or null to stall it. */
function answerStandard(core: EmulatorCore, setup: SetupPacket, toHost: boolean): Uint8Array | null {
  const recipient = setup.bmRequestType & 0x1f;
  switch (setup.bRequest) {
    case Request.GetStatus:
      return toHost ? getStatus(core, recipient, setup.wIndex) : null;
    case Request.ClearFeature:
    case Request.SetFeature:
      return toHost ? null : feature(core, recipient, setup, setup.bRequest === Request.SetFeature);
    case Request.SetAddress:
      return toHost ? null : EMPTY;
    case Request.GetDescriptor:
      return toHost ? getDescriptor(core, setup.wValue) : null;
    case Request.GetConfiguration:
      return toHost ? Uint8Array.of(core.configurationValue) : null;
    case Request.SetConfiguration:
      return toHost ? null : attempt(() => core.configure(setup.wValue & 0xff));
    case Request.GetInterface:
      return toHost && (setup.wIndex & 0xff) === core.options.interfaceNumber && core.state === 'configured'
        ? Uint8Array.of(core.alternateSettings.get(setup.wIndex & 0xff) ?? 0)
        : null;
    case Request.SetInterface:
      return toHost || (setup.wIndex & 0xff) !== core.options.interfaceNumber
        ? null
        : attempt(() => core.setInterface(setup.wIndex & 0xff, setup.wValue & 0xff));
    default:
      return null;
  }
}

/** Runs a state change; a refusal (wrong state) becomes a stall, as a device would answer. */
function attempt(change: () => void): Uint8Array | null {
  try {
    change();
    return EMPTY;
  } catch {
    return null;
  }
}

function getStatus(core: EmulatorCore, recipient: number, wIndex: number): Uint8Array | null {
  if (recipient !== 2) return recipient <= 1 ? Uint8Array.of(0, 0) : null;
  const address = wIndex & 0xff;
  if ((address & 0x7f) === 0) return Uint8Array.of(core.control.halted ? 1 : 0, 0);
  const pipe = core.pipeByAddress(address);
  return pipe ? Uint8Array.of(pipe.halted ? 1 : 0, 0) : null;
}

/** CLEAR_FEATURE / SET_FEATURE: ENDPOINT_HALT (0) on an endpoint; device features are accepted and ignored. */
function feature(core: EmulatorCore, recipient: number, setup: SetupPacket, set: boolean): Uint8Array | null {
  if (recipient === 0) return EMPTY;
  if (recipient !== 2 || setup.wValue !== 0) return null;
  const address = setup.wIndex & 0xff;
  if ((address & 0x7f) === 0) return EMPTY;
  const pipe = core.pipeByAddress(address);
  if (!pipe) return null;
  core.setHalt(pipe, set);
  return EMPTY;
}

function getDescriptor(core: EmulatorCore, wValue: number): Uint8Array | null {
  if (wValue >> 8 !== USB_STRING_DESCRIPTOR_TYPE) return null; // device/configuration descriptors belong to UFX, not modelled
  const index = wValue & 0xff;
  const text = core.strings.get(index);
  if (text !== undefined) return stringDescriptor(text);
  return index === 0 ? DEFAULT_LANGID_DESCRIPTOR : null;
}
