/** `usbfn bench --emulate` measures each direction; without --emulate it says what to do instead. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonOf, runInProcess } from './helpers.js';

const test = suite('usbfn bench');

test('reports bytes, ms and MB/s for host-to-device and device-to-host', async () => {
  const r = await runInProcess(['bench', '--emulate', '--bytes', '2M', '--chunk', '64k', '--json']);
  assert.is(r.code, 0, r.stderr);
  const json = jsonOf(r) as { emulated: boolean; results: Array<{ direction: string; bytes: number; megabytesPerSecond: number }> };
  assert.equal(json.results.map((x) => [x.direction, x.bytes]), [['host-to-device', 2097152], ['device-to-host', 2097152]]);
  assert.ok(json.results.every((x) => x.megabytesPerSecond > 0));
  const text = await runInProcess(['bench', '--emulate', '--bytes', '512k']);
  assert.match(text.stdout, /^direction +bytes +ms +MB\/s/);
  assert.match(text.stdout, /host-to-device +524288/);
});

test('without --emulate: exit 3 with USBFN_ERR_NOT_SUPPORTED and a hint', async () => {
  const r = await runInProcess(['bench']);
  assert.is(r.code, 3);
  assert.match(r.stderr, /next: add --emulate/);
});

test.run();
