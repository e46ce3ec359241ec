/**
 * Soak records: sequence-numbered, checksummed frames, so a receiver checks order and content
 * over a byte stream whatever its read boundaries (a re-sent remainder, a cancelled read's
 * partial packets). Layout, little-endian: magic u32, seq u32, payload length u32, CRC-32 of the
 * payload u32, payload (pseudo-random bytes derived from seq).
 */
import { crc32 } from 'node:zlib';

const MAGIC = 0x5ec0a11e;
const HEADER = 16;

/** One record with sequence number `seq` and a payload of `length` bytes. */
export function encodeRecord(seq: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER + length);
  let x = (seq * 2654435761 + 1) >>> 0 || 1;
  for (let i = HEADER; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(seq, 4);
  out.writeUInt32LE(length, 8);
  out.writeUInt32LE(crc32(out.subarray(HEADER)), 12);
  return out;
}

/** What a receiver counted: records in order, duplicates, gaps, corrupt frames. */
export interface RecordTally {
  records: number;
  bytes: number;
  duplicated: number;
  lost: number;
  corrupt: number;
}

/** Parses records from a byte stream fed in arbitrary pieces, checking order and content. */
export class RecordReader implements RecordTally {
  records = 0;
  bytes = 0;
  duplicated = 0;
  lost = 0;
  corrupt = 0;
  /** The first few out-of-order arrivals, with when they happened (for the report). */
  readonly anomalies: string[] = [];
  /** The next sequence number expected. */
  next = 0;
  private pending: Buffer = Buffer.alloc(0);

  feed(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    let at = 0;
    while (this.pending.length - at >= HEADER) {
      const magic = this.pending.readUInt32LE(at);
      const length = this.pending.readUInt32LE(at + 8);
      if (magic !== MAGIC || length > 1 << 24) {
        this.corrupt++;
        at = this.pending.length; // framing lost: nothing after this can be trusted
        break;
      }
      if (this.pending.length - at < HEADER + length) break;
      this.check(this.pending.subarray(at, at + HEADER + length));
      at += HEADER + length;
    }
    this.pending = this.pending.subarray(at);
  }

  private check(frame: Buffer): void {
    const seq = frame.readUInt32LE(4);
    if (crc32(frame.subarray(HEADER)) !== frame.readUInt32LE(12)) this.corrupt++;
    if (seq !== this.next) this.anomalies.push(`${new Date().toISOString()} expected ${this.next}, got ${seq}`);
    if (seq < this.next) return void this.duplicated++;
    if (seq > this.next) this.lost += seq - this.next;
    this.next = seq + 1;
    this.records++;
  }
}
