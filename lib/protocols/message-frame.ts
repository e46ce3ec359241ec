/**
 * The message channel's wire format: one message is one USB transfer, an 8-byte header then
 * the payload. Exported so the host side (a libusb program, a test's SimulatedHost) can speak it.
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 1 | kind: 1 request, 2 response, 3 error response (payload = UTF-8 message), 4 one-way message |
 * | 1 | 3 | reserved, 0 |
 * | 4 | 4 | id (u32 LE): a request's id, echoed by its response; 0 for one-way messages |
 * | 8 | … | payload |
 */
import { ErrorCodes, UsbFnError } from '../errors.js';

export const FRAME_HEADER_SIZE = 8;

export const FrameKind = Object.freeze({ REQUEST: 1, RESPONSE: 2, ERROR: 3, MESSAGE: 4 } as const);
export type FrameKindValue = (typeof FrameKind)[keyof typeof FrameKind];

/** A decoded frame; `payload` is a view into the received buffer. */
export interface Frame {
  kind: FrameKindValue;
  id: number;
  payload: Buffer;
}

/** Header + payload in one Buffer (one transfer). */
export function encodeFrame(kind: FrameKindValue, id: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  out.writeUInt32LE(kind, 0); // kind in byte 0, reserved bytes 1..3 zero
  out.writeUInt32LE(id >>> 0, 4);
  out.set(payload, FRAME_HEADER_SIZE);
  return out;
}

/** Decodes one received transfer; throws USBFN_ERR_MALFORMED for a short frame or an unknown kind. */
export function decodeFrame(transfer: Buffer): Frame {
  if (transfer.length < FRAME_HEADER_SIZE) throw new UsbFnError(ErrorCodes.MALFORMED, `a message frame is at least ${FRAME_HEADER_SIZE} bytes, got ${transfer.length}`);
  const kind = transfer[0];
  if (kind < FrameKind.REQUEST || kind > FrameKind.MESSAGE) throw new UsbFnError(ErrorCodes.MALFORMED, `unknown message frame kind ${kind}`);
  return { kind: kind as FrameKindValue, id: transfer.readUInt32LE(4), payload: transfer.subarray(FRAME_HEADER_SIZE) };
}
