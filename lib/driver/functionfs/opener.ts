/**
 * openFunctionFs: what UsbFnDevice.open() runs on Linux. Either opens an existing FunctionFS
 * mount (`mountPoint`, the caller or a system service set up and binds the gadget), or sets up
 * a configfs gadget itself (createGadget), writes the descriptors, binds it to the UDC on
 * activate() and tears it down on close().
 */
import type { UsbFnDriver } from '../driver.js';
import type { FunctionDescription } from '../function-description.js';
import { createGadget, type GadgetOptions } from './configfs-gadget.js';
import { FunctionFsDriver } from './ffs-driver.js';

/** Where and what to open on FunctionFS. */
export interface FunctionFsTarget {
  /** An already mounted FunctionFS instance; without it, usbfn creates a gadget (needs root). */
  mountPoint?: string;
  /** The function (endpoints, class, strings). Default: vendor class, bulk IN 0x81 + OUT 0x01. */
  function?: FunctionDescription;
  /** The gadget usbfn creates when no mountPoint is given (VID/PID, strings, UDC…). */
  gadget?: GadgetOptions;
  /** The UDC for current_speed (and binding, with `gadget`). Default: the only/first UDC. */
  udc?: string;
  /** AIO requests in flight at most. Default 128. */
  aioDepth?: number;
}

/** Opens the FunctionFS backend; rejects with a UsbFnError saying what is missing. */
export async function openFunctionFs(target: FunctionFsTarget = {}): Promise<UsbFnDriver> {
  const { function: fn, udc, aioDepth } = target;
  if (target.mountPoint) return FunctionFsDriver.open({ mountPoint: target.mountPoint, function: fn, udc, aioDepth });
  const gadget = await createGadget({ udc, msOs: fn?.msOs !== undefined, ...target.gadget });
  const mountPoint = Object.values(gadget.mountPoints)[0]!;
  try {
    return await FunctionFsDriver.open({
      mountPoint,
      function: fn,
      udc: gadget.udc,
      aioDepth,
      bind: () => gadget.bind(),
      unbind: () => gadget.unbind(),
      release: () => gadget.teardown(),
    });
  } catch (err) {
    await gadget.teardown();
    throw err;
  }
}
