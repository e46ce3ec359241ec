/**
 * Enums of usbfnbase.h (4 bytes each in structs) and bit helpers for usbspec.h fields.
 * Pure data. Each enum is a frozen object plus a `…Name()` lookup that never throws,
 * because values from a driver may be ones this code does not know.
 */

function nameLookup<T extends Record<string, number>>(values: T): (v: number) => string {
  const names = new Map(Object.entries(values).map(([k, v]) => [v, k]));
  return (v) => names.get(v) ?? `Unknown(${v})`;
}

/** USBFN_EVENT. 0 (Minimum) and 12 (Maximum) are bounds, not events. */
export const UsbFnEvent = Object.freeze({
  Minimum: 0,
  Attach: 1,
  Reset: 2,
  Detach: 3,
  Suspend: 4,
  Resume: 5,
  SetupPacket: 6,
  Configured: 7,
  UnConfigured: 8,
  PortType: 9,
  BusTearDown: 10,
  SetInterface: 11,
  Maximum: 12,
} as const);
export type UsbFnEvent = (typeof UsbFnEvent)[keyof typeof UsbFnEvent];
export const usbFnEventName = nameLookup(UsbFnEvent);

/** USBFN_BUS_SPEED. */
export const UsbFnBusSpeed = Object.freeze({ Low: 0, Full: 1, High: 2, Super: 3 } as const);
export type UsbFnBusSpeed = (typeof UsbFnBusSpeed)[keyof typeof UsbFnBusSpeed];
export const usbFnBusSpeedName = nameLookup(UsbFnBusSpeed);

/** USBFN_PORT_TYPE (carried by the deprecated PortType event). */
export const UsbFnPortType = Object.freeze({
  Unknown: 0,
  StandardDownstream: 1,
  ChargingDownstream: 2,
  DedicatedCharging: 3,
  InvalidDedicatedCharging: 4,
  ProprietaryDedicatedCharging: 5,
} as const);
export type UsbFnPortType = (typeof UsbFnPortType)[keyof typeof UsbFnPortType];
export const usbFnPortTypeName = nameLookup(UsbFnPortType);

/** USBFN_DEVICE_STATE. */
export const UsbFnDeviceState = Object.freeze({
  Attached: 1,
  Default: 2,
  Detached: 3,
  Addressed: 4,
  Configured: 5,
  Suspended: 6,
} as const);
export type UsbFnDeviceState = (typeof UsbFnDeviceState)[keyof typeof UsbFnDeviceState];
export const usbFnDeviceStateName = nameLookup(UsbFnDeviceState);

/** USBFN_DIRECTION: In = Tx (device to host), Out = Rx (host to device). */
export const UsbFnDirection = Object.freeze({ In: 1, Out: 2 } as const);
export type UsbFnDirection = (typeof UsbFnDirection)[keyof typeof UsbFnDirection];

// ---- bmRequestType (usbspec.h): recipient bits 0–1, type bits 5–6, direction bit 7 ----

export const BMREQUEST_HOST_TO_DEVICE = 0;
export const BMREQUEST_DEVICE_TO_HOST = 1;
export const BMREQUEST_STANDARD = 0;
export const BMREQUEST_CLASS = 1;
export const BMREQUEST_VENDOR = 2;
export const BMREQUEST_TO_DEVICE = 0;
export const BMREQUEST_TO_INTERFACE = 1;
export const BMREQUEST_TO_ENDPOINT = 2;
export const BMREQUEST_TO_OTHER = 3;

export type RequestRecipient = 'device' | 'interface' | 'endpoint' | 'other';
export type RequestType = 'standard' | 'class' | 'vendor' | 'reserved';
export type RequestDirection = 'hostToDevice' | 'deviceToHost';

const RECIPIENTS: readonly RequestRecipient[] = ['device', 'interface', 'endpoint', 'other'];
const TYPES: readonly RequestType[] = ['standard', 'class', 'vendor', 'reserved'];

export interface RequestTypeFields {
  direction: RequestDirection;
  type: RequestType;
  /** Bits 0–4 hold the recipient; values 4–31 are reserved and reported as 'other'. */
  recipient: RequestRecipient;
}

/** Splits a bmRequestType byte into its three fields. */
export function decodeRequestType(bmRequestType: number): RequestTypeFields {
  const recipientBits = bmRequestType & 0x1f;
  return {
    direction: bmRequestType & 0x80 ? 'deviceToHost' : 'hostToDevice',
    type: TYPES[(bmRequestType >> 5) & 3],
    recipient: recipientBits < 4 ? RECIPIENTS[recipientBits] : 'other',
  };
}

/** Builds a bmRequestType byte from its fields. */
export function encodeRequestType(f: RequestTypeFields): number {
  return (
    (f.direction === 'deviceToHost' ? 0x80 : 0) | (TYPES.indexOf(f.type) << 5) | RECIPIENTS.indexOf(f.recipient)
  );
}

// ---- endpoint descriptor bits ----

export const USB_ENDPOINT_DIRECTION_MASK = 0x80;
export const USB_ENDPOINT_ADDRESS_MASK = 0x0f;
export const USB_ENDPOINT_TYPE_MASK = 0x03;
export const USB_ENDPOINT_TYPE_CONTROL = 0;
export const USB_ENDPOINT_TYPE_ISOCHRONOUS = 1;
export const USB_ENDPOINT_TYPE_BULK = 2;
export const USB_ENDPOINT_TYPE_INTERRUPT = 3;
export const USB_ENDPOINT_DESCRIPTOR_TYPE = 0x05;
export const USB_INTERFACE_DESCRIPTOR_TYPE = 0x04;
export const USB_STRING_DESCRIPTOR_TYPE = 0x03;

export type EndpointType = 'control' | 'isochronous' | 'bulk' | 'interrupt';
const ENDPOINT_TYPES: readonly EndpointType[] = ['control', 'isochronous', 'bulk', 'interrupt'];

/** True when bEndpointAddress names an IN (device-to-host) endpoint. */
export const endpointIsIn = (bEndpointAddress: number) => (bEndpointAddress & USB_ENDPOINT_DIRECTION_MASK) !== 0;
/** Endpoint number, bits 0–3 of bEndpointAddress. */
export const endpointNumber = (bEndpointAddress: number) => bEndpointAddress & USB_ENDPOINT_ADDRESS_MASK;
/** Transfer type, bits 0–1 of bmAttributes. */
export const endpointType = (bmAttributes: number): EndpointType => ENDPOINT_TYPES[bmAttributes & USB_ENDPOINT_TYPE_MASK];
/** Packet size in bytes, bits 0–10 of wMaxPacketSize (bits 11–12 are high-bandwidth multipliers). */
export const maxPacketBytes = (wMaxPacketSize: number) => wMaxPacketSize & 0x7ff;
