/**
 * Linux native AIO (linux/aio_abi.h) as pure data: struct iocb (64 bytes) and struct io_event
 * (32 bytes) codecs, opcodes, and the syscall numbers per architecture. Loads no native code.
 * Little-endian layouts (x86-64, arm64, riscv64: the 64-bit targets FunctionFS boards run).
 */
import { CodecError } from './codec-core.js';

export const IOCB_SIZE = 64;
export const IO_EVENT_SIZE = 32;
export const IOCB_CMD_PREAD = 0;
export const IOCB_CMD_PWRITE = 1;
/** aio_flags bit: signal completion on the eventfd in aio_resfd. */
export const IOCB_FLAG_RESFD = 1;

/**
 * struct aio_ring, the completion ring the kernel maps into the process for each AIO context
 * (the aio_context_t is its address), as 32-bit words: id, nr (io_events it holds), head (next
 * for the reader), tail (next for the kernel), magic, compat_features, incompat_features,
 * header_length; then `nr` struct io_event. The kernel writes an event, then moves tail; the
 * reader moves head. libaio and fio reap from it without io_getevents.
 */
export const AIO_RING_MAGIC = 0xa10a10a1;
export const AIO_RING_HEADER_SIZE = 32;
export const AIO_RING_WORD = Object.freeze({ nr: 1, head: 2, tail: 3, magic: 4, incompatFeatures: 6, headerLength: 7 });

/**
 * The number of io_events a ring header (its first 8 words) says the ring holds, or 0 when the
 * header is not the layout above (another magic, incompatible features, another header size, no
 * events): a reader must then use io_getevents.
 */
export function aioRingEvents(header: Uint32Array): number {
  if (header.length < 8 || header[AIO_RING_WORD.magic] !== AIO_RING_MAGIC) return 0;
  if (header[AIO_RING_WORD.incompatFeatures] !== 0 || header[AIO_RING_WORD.headerLength] !== AIO_RING_HEADER_SIZE) return 0;
  return header[AIO_RING_WORD.nr]!;
}

/** Syscall numbers of the AIO calls, per Node's process.arch. */
export interface AioSyscalls {
  io_setup: number;
  io_destroy: number;
  io_submit: number;
  io_cancel: number;
  io_getevents: number;
}

const AIO_SYSCALLS: Record<string, AioSyscalls> = {
  x64: { io_setup: 206, io_destroy: 207, io_getevents: 208, io_submit: 209, io_cancel: 210 },
  // arm64 and riscv64 share the asm-generic table.
  arm64: { io_setup: 0, io_destroy: 1, io_submit: 2, io_cancel: 3, io_getevents: 4 },
  riscv64: { io_setup: 0, io_destroy: 1, io_submit: 2, io_cancel: 3, io_getevents: 4 },
};

/** The AIO syscall numbers for `arch`, or null where this layout is not known to be right. */
export function aioSyscalls(arch: string): AioSyscalls | null {
  return AIO_SYSCALLS[arch] ?? null;
}

/** What one iocb asks for. `data` comes back in the io_event unchanged (the request's id). */
export interface IocbFields {
  data: number;
  opcode: number;
  fd: number;
  /** User-space address of the buffer (addresses stay below 2^53). */
  buf: number;
  nbytes: number;
  offset?: number;
  /** eventfd to signal on completion (sets IOCB_FLAG_RESFD), or -1 for none. */
  resfd?: number;
}

/**
 * Writes one struct iocb at `offset`: aio_data @0, aio_key @8, aio_rw_flags @12,
 * aio_lio_opcode @16, aio_reqprio @18, aio_fildes @20, aio_buf @24, aio_nbytes @32,
 * aio_offset @40, aio_reserved2 @48, aio_flags @56, aio_resfd @60.
 */
export function encodeIocb(f: IocbFields, out: Uint8Array = new Uint8Array(IOCB_SIZE), offset = 0): Uint8Array {
  if (offset + IOCB_SIZE > out.length) throw new CodecError('iocb does not fit the buffer', 'iocb');
  const v = new DataView(out.buffer, out.byteOffset + offset, IOCB_SIZE);
  const resfd = f.resfd ?? -1;
  v.setBigUint64(0, BigInt(f.data), true);
  v.setUint32(8, 0, true);
  v.setUint32(12, 0, true);
  v.setUint16(16, f.opcode, true);
  v.setInt16(18, 0, true);
  v.setUint32(20, f.fd, true);
  v.setBigUint64(24, BigInt(f.buf), true);
  v.setBigUint64(32, BigInt(f.nbytes), true);
  v.setBigInt64(40, BigInt(f.offset ?? 0), true);
  v.setBigUint64(48, 0n, true);
  v.setUint32(56, resfd >= 0 ? IOCB_FLAG_RESFD : 0, true);
  v.setUint32(60, resfd >= 0 ? resfd : 0, true);
  return out;
}

const TWO_32 = 2 ** 32;

/**
 * Rewrites the per-request fields of an iocb that encodeIocb() already laid out at `offset` of
 * `v` (aio_data, flags and resfd stay): opcode, fd, buffer address and length. The AIO hot path:
 * no allocation, no BigInt (they showed in the FunctionFS throughput profile under emulation).
 */
export function setIocbRequest(v: DataView, offset: number, opcode: number, fd: number, buf: number, nbytes: number): void {
  v.setUint16(offset + 16, opcode, true);
  v.setUint32(offset + 20, fd, true);
  v.setUint32(offset + 24, buf % TWO_32, true);
  v.setUint32(offset + 28, Math.floor(buf / TWO_32), true);
  v.setUint32(offset + 32, nbytes % TWO_32, true);
  v.setUint32(offset + 36, Math.floor(nbytes / TWO_32), true);
}

/** aio_data of io_event `i` in `v`, as far as a JS number holds it (AioQueue puts small ids there). */
export function ioEventData(v: DataView, i: number): number {
  const at = i * IO_EVENT_SIZE;
  return v.getUint32(at + 4, true) * TWO_32 + v.getUint32(at, true);
}

/** res of io_event `i` in `v`: bytes transferred or −errno (a 64-bit value beyond 2^53 comes back rounded: still out of any buffer's range). */
export function ioEventRes(v: DataView, i: number): number {
  const at = i * IO_EVENT_SIZE + 16;
  return v.getInt32(at + 4, true) * TWO_32 + v.getUint32(at, true);
}

/** One completion: `data` is the iocb's aio_data; `res` the byte count, or −errno. */
export interface IoEvent {
  data: number;
  /** Address of the iocb that completed. */
  obj: number;
  res: number;
  res2: number;
}

/** Decodes `count` struct io_event (data @0, obj @8, res @16, res2 @24) from `bytes`. */
export function decodeIoEvents(bytes: Uint8Array, count: number): IoEvent[] {
  if (!Number.isInteger(count) || count < 0 || count * IO_EVENT_SIZE > bytes.length) {
    throw new CodecError(`io_getevents reported ${count} events, the buffer holds ${Math.floor(bytes.length / IO_EVENT_SIZE)}`, 'io_event');
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const events: IoEvent[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * IO_EVENT_SIZE;
    events.push({
      data: Number(v.getBigUint64(at, true)),
      obj: Number(v.getBigUint64(at + 8, true)),
      res: Number(v.getBigInt64(at + 16, true)),
      res2: Number(v.getBigInt64(at + 24, true)),
    });
  }
  return events;
}
