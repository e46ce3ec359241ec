/**
 * The device's data pipes: lookup at the current speed (by endpoint address or direction) and
 * the BulkPipe streams the device created, so close() can close them all and wait for each to
 * release its transfers and pooled buffers.
 */
import type { BusLink } from '../bus-link.js';
import { BulkPipe, BulkReader, BulkWriter } from '../stream/bulk-pipe.js';
import type { BulkPipeOptions } from '../stream/bulk-pipe-options.js';
import type { PipeInfo, UsbFnDriver } from '../driver/driver.js';
import { ErrorCodes, UsbFnError } from '../errors.js';
import { PIPE_OPTION_KEYS } from '../stream/bulk-pipe-options.js';
import { checkInteger, checkOneOf, checkOptions, describe, invalidArg } from '../validate.js';

export { BulkPipe, BulkReader, BulkWriter };

/** An endpoint address (0x81, 0x01), a direction ('in' = device to host), or both plus a type. */
export type PipeQuery = number | 'in' | 'out' | { address?: number; direction?: 'in' | 'out'; type?: PipeInfo['type'] };

/**
 * BulkPipe options as the device takes them: driver and link are the device's. `out` / `in`
 * default to the first bulk OUT / IN pipe; `null` leaves that side out.
 */
export type DevicePipeOptions = Omit<BulkPipeOptions, 'driver' | 'link' | 'out' | 'in'> & {
  out?: number | null;
  in?: number | null;
};

type AnyPipe = BulkPipe | BulkReader | BulkWriter;

/** What openPipe() takes: the BulkPipe options except those the device supplies itself. */
const DEVICE_PIPE_KEYS = PIPE_OPTION_KEYS.filter((k) => k !== 'driver' && k !== 'link');

/** @internal The pipe registry behind UsbFnDevice.pipes / findPipe / openPipe / openReader / openWriter. */
export class DevicePipes {
  /** Each stream still open, with a promise of its 'close'. */
  private readonly open = new Map<AnyPipe, Promise<void>>();
  /** Endpoint address → the open stream that owns it: one stream per endpoint. */
  private readonly owners = new Map<number, AnyPipe>();

  constructor(
    private readonly driver: UsbFnDriver,
    private readonly link: BusLink,
  ) {}

  /** Data pipes (not control) at the current speed. */
  list(): PipeInfo[] {
    return this.link.pipes.filter((p) => p.type !== 'control');
  }

  /** A number is an endpoint address; a direction picks the first bulk pipe that way. */
  find(query: PipeQuery): PipeInfo | undefined {
    checkPipeQuery(query);
    const q = typeof query === 'number' ? { address: query } : typeof query === 'string' ? { direction: query } : query;
    const typed = q.type ?? (q.address === undefined ? 'bulk' : undefined);
    return this.list().find(
      (p) =>
        (q.address === undefined || p.endpointAddress === q.address) &&
        (q.direction === undefined || p.direction === q.direction) &&
        (typed === undefined || p.type === typed),
    );
  }

  /** Number of streams created and not yet closed. */
  get size(): number {
    return this.open.size;
  }

  openPipe(options: DevicePipeOptions): BulkPipe {
    checkOptions('openPipe', options, DEVICE_PIPE_KEYS);
    const out = this.address(options.out, 'out');
    const inn = this.address(options.in, 'in');
    if (out === undefined && inn === undefined) throw invalid('openPipe: the interface has no bulk pipe for either side');
    this.assertFree('openPipe', out, inn);
    return this.track(new BulkPipe({ ...options, driver: this.driver, link: this.link, out, in: inn }), out, inn);
  }

  openReader(options: Omit<DevicePipeOptions, 'in'>): BulkReader {
    checkOptions('openReader', options, DEVICE_PIPE_KEYS.filter((k) => k !== 'in'));
    const out = this.address(options.out, 'out');
    if (out === undefined) throw invalid('openReader: no OUT pipe');
    this.assertFree('openReader', out);
    return this.track(new BulkReader({ ...options, driver: this.driver, link: this.link, out }), out);
  }

  openWriter(options: Omit<DevicePipeOptions, 'out'>): BulkWriter {
    checkOptions('openWriter', options, DEVICE_PIPE_KEYS.filter((k) => k !== 'out'));
    const inn = this.address(options.in, 'in');
    if (inn === undefined) throw invalid('openWriter: no IN pipe');
    this.assertFree('openWriter', inn);
    return this.track(new BulkWriter({ ...options, driver: this.driver, link: this.link, in: inn }), inn);
  }

  /** Destroys every stream still open and resolves once each has closed (buffers released). */
  async closeAll(): Promise<void> {
    const entries = [...this.open];
    for (const [p] of entries) p.destroy();
    await Promise.all(entries.map(([, closed]) => closed));
  }

  /** The address for one side: given (checked against the class info), defaulted, or left out (null). */
  private address(given: number | null | undefined, direction: 'in' | 'out'): number | undefined {
    if (given === null) return undefined;
    if (given === undefined) return this.find(direction)?.endpointAddress;
    const pipe = this.find(given);
    if (!pipe || pipe.direction !== direction) {
      throw invalid(`the interface has no ${direction.toUpperCase()} pipe 0x${Number(given).toString(16)}`);
    }
    return given;
  }

  /**
   * Two streams on one endpoint would split its data between them (readers) or interleave
   * transfers (writers): refused with INVALID_STATE until the first stream has closed.
   */
  private assertFree(operation: string, ...addresses: Array<number | undefined>): void {
    for (const address of addresses) {
      if (address === undefined || !this.owners.has(address)) continue;
      throw new UsbFnError(
        ErrorCodes.INVALID_STATE,
        `${operation}: endpoint 0x${address.toString(16)} already has an open stream; share that stream, or destroy() it and wait for 'close' first`,
        { operation },
      );
    }
  }

  private track<T extends AnyPipe>(pipe: T, ...addresses: Array<number | undefined>): T {
    const owned = addresses.filter((a): a is number => a !== undefined);
    for (const a of owned) this.owners.set(a, pipe);
    const closed = new Promise<void>((resolve) => {
      pipe.once('close', () => {
        this.open.delete(pipe);
        for (const a of owned) if (this.owners.get(a) === pipe) this.owners.delete(a);
        resolve();
      });
    });
    this.open.set(pipe, closed);
    return pipe;
  }
}

/** A query that can never match (`'sideways'`, `{ adress: 1 }`) is INVALID_ARG, not `undefined` or the wrong pipe. */
function checkPipeQuery(query: unknown): void {
  const op = 'findPipe';
  if (typeof query === 'number') return checkInteger(op, 'endpoint address', query, 0, 0xff);
  if (typeof query === 'string') return checkOneOf(op, 'direction', query, ['in', 'out']);
  if (query === null || typeof query !== 'object') throw invalidArg(op, `query must be an endpoint address, 'in', 'out' or { address, direction, type }, got ${describe(query)}`);
  checkOptions(op, query, ['address', 'direction', 'type']);
  const q = query as Record<string, unknown>;
  checkInteger(op, 'address', q.address, 0, 0xff);
  checkOneOf(op, 'direction', q.direction, ['in', 'out']);
  checkOneOf(op, 'type', q.type, ['control', 'isochronous', 'bulk', 'interrupt']);
}

function invalid(message: string): UsbFnError {
  return new UsbFnError(ErrorCodes.INVALID_ARG, message, { operation: 'UsbFnDevice' });
}
