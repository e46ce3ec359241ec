/**
 * The far end of `usbfn serial --emulate`: the emulated host plays a terminal program with a
 * loopback plug. It opens the port as a host serial driver does (SET_LINE_CODING 115200 8N1,
 * SET_CONTROL_LINE_STATE DTR+RTS) and sends back everything the device writes.
 */
import type { SimulatedHost } from '../driver/emulator/host.js';
import { CdcRequest, encodeLineCoding } from '../protocols/cdc-acm.js';

const DATA_IN = 0x81;
const DATA_OUT = 0x02;

/** Opens the port like a host driver would. */
export async function hostOpensPort(host: SimulatedHost): Promise<void> {
  const toInterface = { wIndex: 0, wValue: 0 };
  await host.controlTransfer({ ...toInterface, bmRequestType: 0x21, bRequest: CdcRequest.SET_LINE_CODING, wLength: 7 }, encodeLineCoding({ baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 }));
  await host.controlTransfer({ ...toInterface, bmRequestType: 0x21, bRequest: CdcRequest.SET_CONTROL_LINE_STATE, wValue: 0x03, wLength: 0 });
}

/** Echoes device → host bytes back host → device until the device closes or detaches. */
export async function hostEchoes(host: SimulatedHost): Promise<void> {
  for (;;) {
    let data: Uint8Array;
    try {
      data = await host.bulkIn(DATA_IN, 64 * 1024);
      if (data.length > 0) await host.bulkOut(DATA_OUT, Uint8Array.from(data));
    } catch {
      return; // the device closed: the terminal goes away with it
    }
  }
}
