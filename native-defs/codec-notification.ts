/** USBFN_NOTIFICATION: the event code and its 8-byte union. See codec.ts for the rules every decoder follows. */
import { LAYOUT as L } from './layout.js';
import { UsbFnEvent } from './enums.js';
import { decodeSetupPacket, encodeSetupPacket, need, view, type SetupPacket } from './codec-core.js';

// ---------- USBFN_NOTIFICATION ----------

export interface AlternateInterface {
  interfaceNumber: number;
  alternateInterfaceNumber: number;
}

/**
 * A decoded notification. Only the union member that belongs to `event` is set; `raw` always
 * holds the 8 union bytes, so an event code this library does not know loses nothing.
 */
export interface Notification {
  event: number;
  busSpeed?: number;
  setupPacket?: SetupPacket;
  configurationValue?: number;
  portType?: number;
  alternateInterface?: AlternateInterface;
  raw?: Uint8Array;
}

export function encodeNotification(n: Notification, out: Uint8Array = new Uint8Array(L.NOTIFICATION_SIZE)): Uint8Array {
  need(out, 0, L.NOTIFICATION_SIZE, 'USBFN_NOTIFICATION');
  const dv = view(out);
  const u = L.NOTIFICATION_UNION_OFFSET;
  out.fill(0, 0, L.NOTIFICATION_SIZE);
  if (n.raw) out.set(n.raw.subarray(0, 8), u);
  dv.setUint32(0, n.event, true);
  if (n.busSpeed !== undefined) dv.setUint32(u, n.busSpeed, true);
  if (n.setupPacket) encodeSetupPacket(n.setupPacket, out, u);
  if (n.configurationValue !== undefined) dv.setUint16(u, n.configurationValue, true);
  if (n.portType !== undefined) dv.setUint32(u, n.portType, true);
  if (n.alternateInterface) {
    dv.setUint16(u, n.alternateInterface.interfaceNumber, true);
    dv.setUint16(u + 2, n.alternateInterface.alternateInterfaceNumber, true);
  }
  return out;
}

export function decodeNotification(bytes: Uint8Array): Notification {
  need(bytes, 0, L.NOTIFICATION_SIZE, 'USBFN_NOTIFICATION');
  const dv = view(bytes);
  const u = L.NOTIFICATION_UNION_OFFSET;
  const event = dv.getUint32(0, true);
  const raw = Uint8Array.from(bytes.subarray(u, u + 8));
  switch (event) {
    case UsbFnEvent.Attach:
    case UsbFnEvent.Reset:
      return { event, busSpeed: dv.getUint32(u, true), raw };
    case UsbFnEvent.SetupPacket:
      return { event, setupPacket: decodeSetupPacket(bytes, u), raw };
    case UsbFnEvent.Configured:
      return { event, configurationValue: dv.getUint16(u, true), raw };
    case UsbFnEvent.PortType:
      return { event, portType: dv.getUint32(u, true), raw };
    case UsbFnEvent.SetInterface:
      return { event, alternateInterface: { interfaceNumber: dv.getUint16(u, true), alternateInterfaceNumber: dv.getUint16(u + 2, true) }, raw };
    default:
      return { event, raw };
  }
}
