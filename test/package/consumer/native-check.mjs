// Imports usbfn and usbfn/emulator as a user would, then prints as JSON whether koffi's native
// module is mapped into the process (Node's report of shared objects; /proc/self/maps on Linux).
import { existsSync, readFileSync } from 'node:fs';

await import('usbfn');
await import('usbfn/emulator');
const koffiNode = /koffi[^\n]*\.node/;
const inReport = (process.report.getReport().sharedObjects ?? []).some((file) => koffiNode.test(file));
const inMaps = existsSync('/proc/self/maps') ? koffiNode.test(readFileSync('/proc/self/maps', 'utf8')) : null;
console.log(JSON.stringify({ inReport, inMaps }));
