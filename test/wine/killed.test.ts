/**
 * A process killed with IRPs pending: Wine closes its handles, the broker sees its application
 * file object and its server go, nothing stays queued, and the channel can be served again.
 */
import * as assert from 'uvu/assert';
import { waitUntil } from '../wait.js';
import { BrokerServer } from './server.js';
import type { BrokerStats } from './protocol.js';
import { runChild, wineSuite } from './helpers.js';

wineSuite('a killed process with IRPs pending', (it) => {
  it('leaves no IRP and no open file object in the broker', async () => {
    const child = runChild('hold-open', ['hold']);
    const channel = Number((await child.line('ready')).split(' ')[1]);
    child.kill();
    await child.exited;
    let server: BrokerServer | undefined;
    await waitUntil(() => {
      try {
        server ??= BrokerServer.open(channel); // refused while the dead child's server handle lingers
      } catch {
        // not yet
      }
      return server !== undefined;
    }, 'the channel free again', 30_000);
    try {
      assert.is(server!.channel, channel);
      let stats: BrokerStats | undefined;
      for (let i = 0; i < 300 && (!stats || stats.appFilesOpen || stats.irpsPending); i++) {
        if (stats) await new Promise((resolve) => setTimeout(resolve, 100));
        stats = await server!.stats();
      }
      assert.is(stats!.irpsPending, 0, 'no IRP left queued');
      assert.is(stats!.appFilesOpen, 0, 'the killed process\'s file object was closed');
    } finally {
      await server?.close();
    }
  });
});
