/** The UsbFnDriver contract, once per backend that can run on this machine. */
import { backends } from '../backends.js';
import { lifecycleSuite } from './suite-lifecycle.js';
import { transfersSuite } from './suite-transfers.js';
import { controlSuite } from './suite-control.js';
import { recipientsSuite } from './suite-recipients.js';

for (const backend of backends) {
  if (backend.skip) {
    console.log(`skipping the driver contract on ${backend.name}: ${backend.skip}`);
    continue;
  }
  lifecycleSuite(backend);
  transfersSuite(backend);
  controlSuite(backend);
  recipientsSuite(backend);
}
