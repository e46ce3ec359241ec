/**
 * The seam's class info for a FunctionFS function, from its resolved description: pipe 0 is EP0
 * (control; 64 / 64 / 512 bytes, which is what UDCs use at full / high / super speed), pipe n
 * is the n-th endpoint of the description (FunctionFS's `ep<n>` file). Addresses are the ones
 * the description declares; the UDC may give the host different numbers (ENDPOINT_REVMAP).
 */
import type { ClassInfo, ClassInfoEx, PipeInfo, SpeedPipes } from '../driver.js';
import type { DescriptorSpeed, ResolvedFunction } from '../function-description.js';
import { USB_ENDPOINT_DESCRIPTOR_TYPE, USB_ENDPOINT_TYPE_BULK, USB_ENDPOINT_TYPE_INTERRUPT } from '../../../native-defs/enums.js';

const EP0_MPS: Record<DescriptorSpeed, number> = { full: 64, high: 64, super: 512 };

function pipe(pipeId: number, address: number, type: PipeInfo['type'], maxPacketSize: number, interval: number): PipeInfo {
  const bmAttributes = type === 'bulk' ? USB_ENDPOINT_TYPE_BULK : type === 'interrupt' ? USB_ENDPOINT_TYPE_INTERRUPT : 0;
  return {
    pipeId,
    endpointAddress: address,
    direction: (address & 0x80) !== 0 ? 'in' : 'out',
    endpointNumber: address & 0x0f,
    type,
    maxPacketSize,
    interval,
    descriptor: { bLength: 7, bDescriptorType: USB_ENDPOINT_DESCRIPTOR_TYPE, bEndpointAddress: address, bmAttributes, wMaxPacketSize: maxPacketSize, bInterval: interval },
  };
}

function speedPipes(fn: ResolvedFunction, speed: DescriptorSpeed): SpeedPipes {
  const data = fn.endpoints.map((e) => pipe(e.pipeId, e.address, e.type, e.maxPacketSize[speed], e.interval));
  return { interfaceNumber: 0, pipes: [pipe(0, 0, 'control', EP0_MPS[speed], 0), ...data] };
}

/** GET_CLASS_INFO's answer for a FunctionFS function named `name`. */
export function ffsClassInfo(fn: ResolvedFunction, name: string): ClassInfo {
  return { interfaceName: name, interfaceGuid: null, full: speedPipes(fn, 'full'), high: speedPipes(fn, 'high'), super: speedPipes(fn, 'super') };
}

/** GET_CLASS_INFO_EX's answer: one interface, number 0 within the function. */
export function ffsClassInfoEx(fn: ResolvedFunction, name: string): ClassInfoEx {
  const ex = (speed: DescriptorSpeed) => ({ baseInterfaceNumber: 0, interfaceCount: 1, pipes: speedPipes(fn, speed).pipes });
  return { interfaceName: name, interfaceGuid: null, full: ex('full'), high: ex('high'), super: ex('super') };
}
