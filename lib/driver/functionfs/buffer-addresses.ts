/**
 * BufferAddresses: the native address of a typed array's bytes, as an iocb takes it, asked from
 * koffi once per ArrayBuffer and computed from the cached base after that (the per-request path
 * then makes no native call for it). Safe because an ArrayBuffer's bytes never move once koffi
 * has seen them: reading `.buffer` first makes V8 move a small on-heap typed array off the heap
 * for good. Entries go with their ArrayBuffer (a WeakMap).
 */
import type { LinuxFfi } from './linux-ffi.js';

/** Address cache of one AioQueue; see the module comment. */
export class BufferAddresses {
  private readonly bases = new WeakMap<ArrayBufferLike, number>();

  constructor(private readonly ffi: Pick<LinuxFfi, 'address'>) {}

  /** The address of `buffer`'s first byte. */
  of(buffer: Uint8Array): number {
    const backing = buffer.buffer; // read first: a small on-heap typed array moves off-heap now, once
    let base = this.bases.get(backing);
    if (base === undefined) {
      base = Number(this.ffi.address(buffer)) - buffer.byteOffset;
      this.bases.set(backing, base);
    }
    return base + buffer.byteOffset;
  }
}
