/**
 * The driver contract suite (test/contract/) on the FunctionFS backend, inside the end-to-end VM:
 * the far end is the kernel's host stack and libusb (test/e2e/host-peer.c through vm-host.ts),
 * the device the configfs gadget the guest script made (one FunctionFS function, mounted, bound
 * to dummy_hcd's UDC by each stack's activate()). Every case that runs reports "ok" / "FAIL",
 * every case this far end cannot run reports "skip" with the reason below, one line each into
 * the results file that test/e2e/run.sh counts.
 *
 *   node ffs-contract.mjs <ffs mount> <gadget dir> <host-peer> <results file> <speed>
 */
import fs from 'node:fs';
import path from 'node:path';
import { FunctionFsDriver } from '../../lib/driver/functionfs/ffs-driver.js';
import { listUdcs } from '../../lib/driver/functionfs/udc.js';
import type { SimulatedHost } from '../../lib/driver/emulator/index.js';
import type { TestBackend } from '../backend-types.js';
import { lifecycleSuite } from '../contract/suite-lifecycle.js';
import { transfersSuite } from '../contract/suite-transfers.js';
import { controlSuite } from '../contract/suite-control.js';
import { recipientsSuite } from '../contract/suite-recipients.js';
import { VmHost } from './vm-host.js';

const [mountPoint, gadgetDir, peerPath, resultsFile, speed = 'high'] = process.argv.slice(2);
if (!mountPoint || !gadgetDir || !peerPath || !resultsFile) throw new Error('usage: ffs-contract <ffs mount> <gadget dir> <host-peer> <results file> [speed]');
const udc = listUdcs()[0]!;
const CONTRACT_FUNCTION = { endpoints: [{ address: 0x81 }, { address: 0x01 }], interfaceString: 'usbfn contract' };

const udcFile = path.join(gadgetDir, 'UDC');
const bind = async () => fs.writeFileSync(udcFile, udc);
const unbind = async () => {
  if (fs.readFileSync(udcFile, 'utf8').trim()) fs.writeFileSync(udcFile, '\n');
};

/** After ep0 closes FunctionFS removes the endpoint files: the next stack waits for that. */
async function endpointsGone(): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (fs.existsSync(path.join(mountPoint!, 'ep1')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

const functionFsBackend: TestBackend = {
  name: 'functionfs',
  cannot: {
    'overlong-byte-count': 'the kernel never reports more bytes than the buffer (a fault only the emulator can inject)',
    'data-with-error-completion': 'a GenericUSBFn.sys completion shape (METHOD_OUT_DIRECT data with an error status)',
    'bulk-volume': 'volume is the e2e echo and benchmark checks\' job',
    'bus-control': 'a real host: dummy_hcd runs at the one speed it was loaded for, and the kernel cannot be made to reset, detach, unconfigure, suspend or send raw events on cue (the e2e resilience checks cover reset, unbind/rebind and restart)',
    'emulator-introspection': 'the far end is the kernel, not the emulator: no pending-request counts, IOCTL counts or fault injection',
    'genericusbfn-specifics': 'GenericUSBFn.sys behaviour: Win32 error numbers, interface GUID and registry options, REGISTER_USB_STRING (FunctionFS takes its strings with the descriptors), DEACTIVATE',
    'halted-transfer-fails': 'FunctionFS queues a transfer on a halted endpoint until the halt is cleared (the contract case checks that instead)',
    'live-pipe-state': 'FunctionFS is never told of the host\'s CLEAR_FEATURE(ENDPOINT_HALT): pipe state clears when data moves',
    'setup-as-sent': 'f_fs.c rewrites an interface request\'s wIndex into the function\'s numbering, its low byte only (the case checking that runs instead)',
  },
  report(outcome, test, detail) {
    const line = `${outcome} [ffs contract] ${test}${detail ? `: ${detail.replace(/\s+/g, ' ')}` : ''}`;
    fs.appendFileSync(resultsFile!, `${line}\n`);
    process.stdout.write(`${line}\n`);
  },
  async create() {
    await endpointsGone();
    const host = new VmHost(peerPath!, speed, CONTRACT_FUNCTION.endpoints.map((e) => e.address));
    const driver = await FunctionFsDriver.open({ mountPoint: mountPoint!, function: CONTRACT_FUNCTION, udc, name: 'contract', bind, unbind, release: unbind });
    return {
      driver,
      host: host as unknown as SimulatedHost,
      device: undefined as never, // emulator-introspection: never reached
      ioctlDevice: undefined as never,
      async close() {
        host.close();
        await driver.close();
      },
    };
  },
};

lifecycleSuite(functionFsBackend);
transfersSuite(functionFsBackend);
controlSuite(functionFsBackend);
recipientsSuite(functionFsBackend);
