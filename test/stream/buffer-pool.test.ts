/** BufferPool: one slab, lazily; fixed capacity; release checks; options validation of BulkPipe. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BufferPool } from '../../lib/stream/buffer-pool.js';
import { resolvePipeOptions, BULK_PIPE_DEFAULTS } from '../../lib/stream/bulk-pipe-options.js';
import type { UsbFnDriver } from '../../lib/driver/driver.js';
import type { BusLink } from '../../lib/bus-link.js';

test('allocates one slab on first use and lends at most `capacity` distinct buffers', () => {
  const pool = new BufferPool(1024, 3);
  assert.is(pool.stats.allocations, 0);
  const a = pool.acquire()!;
  const b = pool.acquire()!;
  const c = pool.acquire()!;
  assert.is(pool.acquire(), null, 'empty pool');
  assert.is(pool.stats.allocations, 1);
  assert.equal([a.length, b.length, c.length], [1024, 1024, 1024]);
  assert.is(new Set([a.byteOffset, b.byteOffset, c.byteOffset]).size, 3, 'distinct views');
  assert.is(pool.inUse, 3);
  pool.release(b);
  assert.is(pool.acquire(), b, 'the released buffer is reused, nothing new allocated');
  assert.is(pool.stats.allocations, 1);
  assert.is(pool.stats.peakInUse, 3);
});

test('releasing a foreign buffer or the same one twice throws USBFN_ERR_INVALID_ARG', () => {
  const pool = new BufferPool(64, 1);
  const a = pool.acquire()!;
  assert.throws(() => pool.release(Buffer.alloc(64)), (e: { code?: string }) => e.code === 'USBFN_ERR_INVALID_ARG');
  pool.release(a);
  assert.throws(() => pool.release(a), (e: { code?: string }) => e.code === 'USBFN_ERR_INVALID_ARG');
});

test('after destroy(), lent buffers can still come back and acquire() throws USBFN_ERR_CLOSED', () => {
  const pool = new BufferPool(64, 2);
  const a = pool.acquire()!;
  pool.destroy();
  pool.release(a);
  assert.is(pool.inUse, 0);
  assert.is(pool.available, 0);
  assert.throws(() => pool.acquire(), (e: { code?: string }) => e.code === 'USBFN_ERR_CLOSED');
});

test('rejects a non-positive size or capacity', () => {
  assert.throws(() => new BufferPool(0, 1));
  assert.throws(() => new BufferPool(64, 0));
});

test('BulkPipe options: defaults filled in, bad values refused with USBFN_ERR_INVALID_ARG', () => {
  const base = { driver: {} as UsbFnDriver, link: {} as BusLink };
  const o = resolvePipeOptions({ ...base, out: 0x01 });
  assert.is(o.readsOutstanding, BULK_PIPE_DEFAULTS.readsOutstanding);
  assert.is(o.readSize, BULK_PIPE_DEFAULTS.readSize);
  assert.is(o.readableHighWaterMark, o.readsOutstanding * o.readSize);
  assert.is(resolvePipeOptions({ ...base, out: 0x01, packetMode: true }).readableHighWaterMark, o.readsOutstanding);
  assert.is(o.writableHighWaterMark, o.writesInFlight * o.readSize, 'a readSize write does not ask for a drain each time');
  assert.is(resolvePipeOptions({ ...base, in: 0x81, packetMode: true }).writableHighWaterMark, o.writesInFlight);
  const bad = (extra: object) => assert.throws(() => resolvePipeOptions({ ...base, ...extra } as never), (e: { code?: string }) => e.code === 'USBFN_ERR_INVALID_ARG');
  bad({});
  bad({ out: 0x81 });
  bad({ in: 0x01 });
  bad({ out: 0x01, readSize: 100 });
  bad({ out: 0x01, readsOutstanding: 0 });
  bad({ in: 0x81, zlp: 'sometimes' });
  bad({ in: 0x81, onBusLoss: 'panic' });
});

test.run();
