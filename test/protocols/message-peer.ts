/** The host side of the message channel, played by the emulator's SimulatedHost. */
import type { SimulatedHost } from '../../lib/driver/emulator/index.js';
import { FrameKind, decodeFrame, encodeFrame, type Frame } from '../../lib/protocols/message-frame.js';

export const OUT = 0x01;
export const IN = 0x81;

/** Sends one frame as one host transfer. */
export function hostSend(host: SimulatedHost, kind: (typeof FrameKind)[keyof typeof FrameKind], id: number, payload: Uint8Array | string): Promise<void> {
  return host.bulkOut(OUT, encodeFrame(kind, id, typeof payload === 'string' ? Buffer.from(payload) : payload), { zlp: true, timeoutMs: 10000 });
}

/** Reads one frame (one transfer) from the device. */
export async function hostReceive(host: SimulatedHost): Promise<Frame> {
  return decodeFrame(Buffer.from(await host.bulkIn(IN, 128 * 1024, { timeoutMs: 10000 })));
}

/** Answers `count` requests from the device, each with `reply(payload)`, in arrival order. */
export async function hostAnswer(host: SimulatedHost, count: number, reply: (payload: Buffer) => Buffer): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const frame = await hostReceive(host);
    ids.push(frame.id);
    await hostSend(host, FrameKind.RESPONSE, frame.id, reply(frame.payload));
  }
  return ids;
}
