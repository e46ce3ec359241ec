/**
 * An IoctlDevice that answers like a broken or hostile driver: random bytes in the output buffer,
 * byte counts past the buffer, negative, fractional or not numbers at all, Win32 errors the spec
 * lists and ones it does not, non-Error throws, and answers that arrive now or a few turns later.
 */
import { IoctlError, type IoctlDevice } from '../../lib/driver/genericusbfn/ioctl-device.js';
import type { Rng } from './prng.js';

const WIN32_ERRORS = [1, 5, 6, 22, 31, 87, 122, 170, 995, 1167, 5023, 0, 997, 0xffffffff];

export class HostileIoctlDevice implements IoctlDevice {
  calls = 0;
  closed = false;

  constructor(private readonly rng: Rng, private readonly valid?: (code: number, output: Uint8Array | null) => number) {}

  async ioctl(code: number, _input: Uint8Array | null, output: Uint8Array | null, signal?: AbortSignal): Promise<number> {
    this.calls++;
    if (this.closed) throw new IoctlError(6);
    const rng = this.rng;
    for (let turns = rng.below(3); turns > 0; turns--) await new Promise((r) => setImmediate(r));
    if (signal?.aborted) throw new IoctlError(995);
    if (output && rng.chance(0.7)) output.set(rng.bytes(rng.below(output.length + 1)).subarray(0, output.length));
    switch (rng.below(6)) {
      case 0:
        throw new IoctlError(rng.pick(WIN32_ERRORS), rng.below(1 << 20));
      case 1:
        throw rng.pick<unknown>(['a string', undefined, null, 42, new TypeError('not an IoctlError'), { errno: 31 }]);
      case 2:
        return rng.pick([-1, 0.5, NaN, Infinity, 2 ** 32, (output?.length ?? 0) + 1, Number.MAX_SAFE_INTEGER]);
      case 3:
        return this.valid ? this.valid(code, output) : output?.length ?? 0;
      default:
        return rng.below((output?.length ?? 0) + 1);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
