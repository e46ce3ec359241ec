/**
 * The bare AIO loop the FunctionFS benchmarks measure usbfn's streams against: one request per
 * buffer kept in flight through an AioQueue, each re-issued from its own completion, no stream
 * on top. Used by ffs-read-path.ts (on /dev/zero, a counted run) and ffs-usbfn-gadget.ts
 * ('raw', on an endpoint file until it goes). Imports no native code itself.
 */
import type { AioQueue } from '../lib/driver/functionfs/aio.js';

/**
 * Keeps `buffers.length` requests of `opcode` on `fd` in flight until `limit` have completed
 * (resolves) or one fails (rejects with its error).
 */
export function reissueLoop(aio: AioQueue, fd: number, opcode: number, buffers: Uint8Array[], limit = Infinity): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let issued = 0;
    let completed = 0;
    const issue = (buffer: Uint8Array, sink: { transferred(): void; transferFailed(err: unknown): void }) => {
      issued++;
      aio.submitTo(fd, opcode, buffer, 'bare transfer', undefined, sink);
    };
    for (const buffer of buffers.slice(0, Math.min(buffers.length, limit))) {
      const sink = {
        transferred: () => {
          if (++completed === limit) return resolve();
          if (issued < limit) issue(buffer, sink);
        },
        transferFailed: reject,
      };
      issue(buffer, sink);
    }
  });
}
