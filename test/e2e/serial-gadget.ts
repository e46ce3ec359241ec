/**
 * The device side of the serial scenario in the end-to-end VM: usbfn's CDC-ACM serial function
 * (openSerialFunction) on the FunctionFS backend, in the 'functionfs' descriptor layout, echoing
 * every byte back. What the host's serial driver told it goes to an event log, one JSON object
 * a line, which the host program (test/e2e/serial-host.mjs) reads to check that its
 * SET_LINE_CODING and DTR changes arrived:
 *   {"linecoding":{…}}  {"controllines":{"dtr":…,"rts":…}}  {"break":ms}
 * DTR drives the modem lines back: DTR on → SERIAL_STATE with DCD and DSR set, DTR off → both
 * cleared, so the host sees a SERIAL_STATE change follow its own DTR toggle.
 *
 *   node serial-gadget.mjs <ffs mount> <ready file> <event log>   (bundled by test/e2e/setup.sh)
 */
import fs from 'node:fs';
import { UsbFnDevice } from '../../lib/index.js';
import type { FunctionDescription } from '../../lib/driver/function-description.js';
import { openSerialFunction, serialInterfaceDeclaration } from '../../lib/protocols/index.js';
import { toFunctionDescription } from '../../lib/protocols/interface-declaration.js';
import type { ControlLines, LineCoding } from '../../lib/protocols/cdc-acm.js';

const [mountPoint, readyFile, eventLog] = process.argv.slice(2);
if (!mountPoint || !readyFile || !eventLog) throw new Error('usage: serial-gadget <ffs mount> <ready file> <event log>');

const log = (event: object) => fs.appendFileSync(eventLog, JSON.stringify(event) + '\n');
const serialFunction = toFunctionDescription(serialInterfaceDeclaration({ layout: 'functionfs' })) as FunctionDescription;

const device = await UsbFnDevice.open({ functionfs: { mountPoint, function: serialFunction } });
// The serial function's own pipe defaults (one-packet reads: cdc_acm sends whole packets with no
// short one after them, see SERIAL_PIPE_DEFAULTS) are what this scenario proves.
const port = await openSerialFunction(device);
port.on('error', (err: Error) => process.stderr.write(`serial-gadget: port error ${err.message}\n`));
port.on('linecoding', (lineCoding: LineCoding) => log({ linecoding: lineCoding }));
port.on('break', (ms: number) => log({ break: ms }));
port.on('controllines', (lines: ControlLines) => {
  log({ controllines: lines });
  port.setSerialState({ dcd: lines.dtr, dsr: lines.dtr }).catch((err: Error) => log({ serialStateError: err.message }));
});
port.pipe(port);
fs.writeFileSync(readyFile, '');
process.stderr.write('serial-gadget: ready\n');
