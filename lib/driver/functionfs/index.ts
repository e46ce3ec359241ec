/**
 * The Linux FunctionFS backend (maps koffi/libc on first use; import it only on Linux).
 *
 * Quick start on a Raspberry Pi (dtoverlay=dwc2, `modprobe libcomposite usb_f_fs`) or any Linux
 * with a UDC, as root:
 *
 *   const device = await UsbFnDevice.open({ functionfs: { function: { endpoints: [{ address: 0x81 }, { address: 0x01 }] } } });
 *
 * creates a configfs gadget (VID 1d6b, PID 0104 by default; see GadgetOptions), mounts its
 * FunctionFS instance at /dev/usb-ffs/usbfn, writes the descriptors, binds the first UDC on
 * activate() and removes it all on close(). With a gadget set up elsewhere (a systemd unit, a
 * shell script), pass `functionfs: { mountPoint }` and bind the UDC yourself after open()
 * resolves (the descriptors are written by then). examples/echo-device.ts runs the same device
 * definition on the emulator and here.
 *
 * Entry points: UsbFnDevice.open({ functionfs }), openFunctionFs(target), FunctionFsDriver.open(),
 * createGadget(); the pure parts (buildFfsBlobs, mapFfsEvents) load no native code.
 * Known limits: one interface per function; class-specific descriptors other than HID, CCID and
 * DFU are refused by the kernel (EINVAL, through at least 6.1); device- and other-recipient
 * requests arrive only through FUNCTIONFS_ALL_CTRL_RECIP (set, Linux ≥ 4.6); while a deferred setup request is unanswered, later ep0
 * events wait in the kernel.
 */
export { FunctionFsDriver, type FunctionFsDriverOptions } from './ffs-driver.js';
export { openFunctionFs, type FunctionFsTarget } from './opener.js';
export { createGadget, type Gadget, type GadgetOptions } from './configfs-gadget.js';
export { buildFfsBlobs, type FfsBlobs } from './blobs.js';
export { mapFfsEvents } from './ep0-events.js';
export { readUdcSpeed, listUdcs } from './udc.js';
