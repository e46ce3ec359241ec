/**
 * Plain driver-level objects from decoded native structs: class info → PipeInfo lists,
 * USBFN_NOTIFICATION → BusEvent. Pure functions, shared by every backend that speaks these structs.
 */
import type { ClassInformationPacket, ClassInformationPacketEx, Notification, PipeInformation } from '../../../native-defs/codec.js';
import { UsbFnEvent, endpointIsIn, endpointNumber, endpointType, maxPacketBytes } from '../../../native-defs/enums.js';
import { BUS_SPEEDS, type BusEvent, type BusSpeed, type ClassInfo, type ClassInfoEx, type PipeInfo } from '../driver.js';

export function toPipeInfo(p: PipeInformation): PipeInfo {
  const d = p.epDesc;
  return {
    pipeId: p.pipeId,
    endpointAddress: d.bEndpointAddress,
    direction: endpointIsIn(d.bEndpointAddress) ? 'in' : 'out',
    endpointNumber: endpointNumber(d.bEndpointAddress),
    type: endpointType(d.bmAttributes),
    maxPacketSize: maxPacketBytes(d.wMaxPacketSize),
    interval: d.bInterval,
    descriptor: d,
  };
}

/** Name, GUID and the three speeds of a class-info packet, each speed mapped by `speed`. */
function perSpeed<T, R>(
  p: { interfaceName: string; interfaceGuid: string | null; fullSpeed: T; highSpeed: T; superSpeed: T },
  speed: (c: T) => R,
) {
  return { interfaceName: p.interfaceName, interfaceGuid: p.interfaceGuid, full: speed(p.fullSpeed), high: speed(p.highSpeed), super: speed(p.superSpeed) };
}

export function toClassInfo(p: ClassInformationPacket): ClassInfo {
  return perSpeed(p, (c) => ({ interfaceNumber: c.interfaceNumber, pipes: c.pipes.map(toPipeInfo) }));
}

export function toClassInfoEx(p: ClassInformationPacketEx): ClassInfoEx {
  return perSpeed(p, (c) => ({ baseInterfaceNumber: c.baseInterfaceNumber, interfaceCount: c.interfaceCount, pipes: c.pipes.map(toPipeInfo) }));
}

/** USBFN_BUS_SPEED → name; an out-of-range value stays a number rather than being guessed. */
export function busSpeedName(value: number): BusSpeed | number {
  return BUS_SPEEDS[value] ?? value;
}

/** USBFN_BUS_SPEED value of a speed name. */
export function busSpeedValue(speed: BusSpeed): number {
  return BUS_SPEEDS.indexOf(speed);
}

/** A decoded notification as a BusEvent; codes this library does not know become `unknown`. */
export function toBusEvent(n: Notification): BusEvent {
  switch (n.event) {
    case UsbFnEvent.Attach:
      return { type: 'attach', speed: busSpeedName(n.busSpeed!) };
    case UsbFnEvent.Reset:
      return { type: 'reset', speed: busSpeedName(n.busSpeed!) };
    case UsbFnEvent.Detach:
      return { type: 'detach' };
    case UsbFnEvent.Suspend:
      return { type: 'suspend' };
    case UsbFnEvent.Resume:
      return { type: 'resume' };
    case UsbFnEvent.SetupPacket:
      return { type: 'setup', setup: n.setupPacket! };
    case UsbFnEvent.Configured:
      return { type: 'configured', configurationValue: n.configurationValue! };
    case UsbFnEvent.UnConfigured:
      return { type: 'unconfigured' };
    case UsbFnEvent.PortType:
      return { type: 'porttype', portType: n.portType! };
    case UsbFnEvent.BusTearDown:
      return { type: 'busteardown' };
    case UsbFnEvent.SetInterface:
      return {
        type: 'setinterface',
        interfaceNumber: n.alternateInterface!.interfaceNumber,
        alternateSetting: n.alternateInterface!.alternateInterfaceNumber,
      };
    default:
      return { type: 'unknown', code: n.event, raw: n.raw ?? new Uint8Array(8) };
  }
}
