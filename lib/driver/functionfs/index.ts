/**
 * The Linux FunctionFS backend (maps koffi/libc on first use; import it only on Linux).
 * Entry points: UsbFnDevice.open({ functionfs: { mountPoint?, function, gadget? } }) or, directly,
 * openFunctionFs(target), FunctionFsDriver.open(options), createGadget(options); the pure parts
 * (buildFfsBlobs, mapFfsEvents) load no native code.
 */
export { FunctionFsDriver, type FunctionFsDriverOptions } from './ffs-driver.js';
export { openFunctionFs, type FunctionFsTarget } from './opener.js';
export { createGadget, type Gadget, type GadgetOptions } from './configfs-gadget.js';
export { buildFfsBlobs, type FfsBlobs } from './blobs.js';
export { mapFfsEvents } from './ep0-events.js';
export { readUdcSpeed, listUdcs } from './udc.js';
