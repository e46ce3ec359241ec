/**
 * The emulated host's side of `loopback` and `bench`: send and receive many bytes on bulk
 * endpoints in transfers of a given size, reporting progress. Bytes are a deterministic
 * pattern so a mismatch points at an offset.
 */
import type { SimulatedHost } from '../driver/emulator/host.js';

/** `length` bytes of a repeating, position-dependent pattern. */
export function testPattern(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + (i >>> 8)) & 0xff;
  return out;
}

/** Sends `data` to an OUT endpoint in transfers of `chunk` bytes. */
export async function hostSend(host: SimulatedHost, endpoint: number, data: Buffer, chunk: number, onProgress: (done: number) => void, signal?: AbortSignal): Promise<void> {
  for (let off = 0; off < data.length; off += chunk) {
    await host.bulkOut(endpoint, data.subarray(off, Math.min(data.length, off + chunk)), { signal });
    onProgress(Math.min(data.length, off + chunk));
  }
}

/** Reads `total` bytes from an IN endpoint, in reads of up to `chunk` bytes. */
export async function hostReceive(host: SimulatedHost, endpoint: number, total: number, chunk: number, onProgress: (done: number) => void, signal?: AbortSignal): Promise<Buffer> {
  const into = Buffer.alloc(total);
  let got = 0;
  while (got < total) {
    const part = await host.bulkIn(endpoint, Math.min(chunk, total - got), { signal, into: into.subarray(got) });
    got += part.length;
    onProgress(got);
  }
  return into;
}

/** The first offset where `a` and `b` differ, or -1. */
export function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** MB/s (10^6 bytes per second) for `bytes` in `ms`. */
export function megabytesPerSecond(bytes: number, ms: number): number {
  return ms > 0 ? Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10 : 0;
}
