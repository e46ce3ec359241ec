/**
 * Byte-level helpers for the emulator tests: they speak to EmulatedGenericUsbFn only through
 * ioctl() with buffers encoded by native-defs, as GenericUsbFnDriver will.
 */
import * as assert from 'uvu/assert';
import { EmulatedGenericUsbFn, type EmulatorOptions } from '../../lib/driver/emulator/index.js';
import { IoctlError } from '../../lib/driver/genericusbfn/ioctl-device.js';
import { UsbFnError } from '../../lib/errors.js';
import {
  decodeNotification,
  encodePipeId,
  type Notification,
} from '../../native-defs/codec.js';
import * as IOCTL from '../../native-defs/ioctl.js';

export const CODES = {
  TRANSFER_IN: IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN,
  TRANSFER_IN_ZLP: IOCTL.IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT,
  TRANSFER_OUT: IOCTL.IOCTL_GENERICUSBFN_TRANSFER_OUT,
  HANDSHAKE_IN: IOCTL.IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN,
  HANDSHAKE_OUT: IOCTL.IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT,
  GET_CLASS_INFO: IOCTL.IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  GET_CLASS_INFO_EX: IOCTL.IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX,
  GET_PIPE_STATE: IOCTL.IOCTL_GENERICUSBFN_GET_PIPE_STATE,
  SET_PIPE_STATE: IOCTL.IOCTL_GENERICUSBFN_SET_PIPE_STATE,
  ACTIVATE: IOCTL.IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
  DEACTIVATE: IOCTL.IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS,
  NOTIFICATION: IOCTL.IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  GET_DESCRIPTOR_SET: IOCTL.IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET,
  REGISTER_STRING: IOCTL.IOCTL_GENERICUSBFN_REGISTER_USB_STRING,
} as const;

/** Default pipes: 1 = bulk IN 0x81, 2 = bulk OUT 0x01. */
export const IN_PIPE = 1;
export const OUT_PIPE = 2;

export const pipe = (id: number) => encodePipeId(id);

/** A device that has issued ACTIVATE_USB_BUS. */
export async function activatedDevice(options?: EmulatorOptions): Promise<EmulatedGenericUsbFn> {
  const device = new EmulatedGenericUsbFn(options);
  assert.is(await device.ioctl(CODES.ACTIVATE, null, null), 0);
  return device;
}

/** A device enumerated by its host, with the Attach/Reset/Configured events already read. */
export async function configuredDevice(options?: EmulatorOptions, speed: 'full' | 'high' | 'super' = 'high'): Promise<EmulatedGenericUsbFn> {
  const device = await activatedDevice(options);
  await device.host.enumerate({ speed, waitForDevice: false }); // this helper reads the events itself, below
  for (let i = 0; i < 3; i++) await nextEvent(device);
  return device;
}

/** Issues one BUS_EVENT_NOTIFICATION and decodes what it returned. */
export async function nextEvent(device: EmulatedGenericUsbFn, signal?: AbortSignal): Promise<Notification> {
  const out = new Uint8Array(12);
  const n = await device.ioctl(CODES.NOTIFICATION, null, out, signal);
  assert.is(n, 12);
  return decodeNotification(out);
}

/** TRANSFER_IN (or the APPEND_ZERO_PKT variant) of `data` on `pipeId`. */
export function transferIn(device: EmulatedGenericUsbFn, pipeId: number, data: Uint8Array, zlp = false, signal?: AbortSignal): Promise<number> {
  return device.ioctl(zlp ? CODES.TRANSFER_IN_ZLP : CODES.TRANSFER_IN, pipe(pipeId), data, signal);
}

/** TRANSFER_OUT into `buf` on `pipeId`. */
export function transferOut(device: EmulatedGenericUsbFn, pipeId: number, buf: Uint8Array, signal?: AbortSignal): Promise<number> {
  return device.ioctl(CODES.TRANSFER_OUT, pipe(pipeId), buf, signal);
}

/** Asserts that `p` rejects with IoctlError `errno`; returns the error. */
export async function rejectsWin32(p: Promise<unknown>, errno: number, why = ''): Promise<IoctlError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, IoctlError);
    assert.is((e as IoctlError).errno, errno, `expected Win32 error ${errno}, got ${(e as IoctlError).errno} ${why}`);
    return e as IoctlError;
  }
  assert.unreachable(`expected Win32 error ${errno}, but it succeeded ${why}`);
  throw new Error('unreachable');
}

/** Asserts that `p` rejects with UsbFnError `code`. */
export async function rejectsCode(p: Promise<unknown>, code: string): Promise<UsbFnError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, UsbFnError, String(e));
    assert.is((e as UsbFnError).code, code);
    return e as UsbFnError;
  }
  assert.unreachable(`expected ${code}, but it succeeded`);
  throw new Error('unreachable');
}

/** Bytes 0, 1, 2… (mod 251, so runs do not repeat on packet boundaries). */
export function pattern(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i + seed) % 251;
  return out;
}

/** Resolves after `n` event-loop turns (completions run one batch per turn). */
export async function turns(n = 2): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Whether `p` has settled after a couple of turns. */
export async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await turns(3);
  return done;
}
