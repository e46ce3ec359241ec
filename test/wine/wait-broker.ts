/**
 * Run by test/wine/run.sh under Wine before the suites: waits until usbfn-broker.sys (loaded by
 * services.exe as the prefix boots) has created its devices. Exits 1 after 60 s without them.
 */
import { kernel32, isInvalidHandle } from '../../lib/driver/genericusbfn/win32-ffi.js';
import { CHANNELS, serverPath } from './protocol.js';

const k32 = kernel32();
const started = Date.now();
for (;;) {
  const h = k32.CreateFileW(serverPath(CHANNELS - 1), 0xc0000000, 3, null, 3, 0, null); // the last channel: the suites start lower
  if (!isInvalidHandle(h)) {
    k32.CloseHandle(h!);
    console.log(`usbfn-broker present after ${Date.now() - started} ms`);
    break;
  }
  if (Date.now() - started > 60_000) {
    console.log(`usbfn-broker never appeared (CreateFileW: Win32 error ${k32.GetLastError()})`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}
