// CommonJS: require() of the ESM-only package works where Node loads ES modules synchronously
// (require(esm), unflagged in Node 20.19 and 22.12). Prints what it found.
try {
  const { UsbFnDevice } = require('usbfn');
  const { EmulatedGenericUsbFn } = require('usbfn/emulator');
  console.log(typeof UsbFnDevice === 'function' && typeof EmulatedGenericUsbFn === 'function' ? 'required' : 'incomplete');
} catch (err) {
  console.log(err.code ?? String(err));
}
