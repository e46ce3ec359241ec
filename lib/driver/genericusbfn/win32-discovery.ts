/**
 * Finding GenericUSBFn.sys devices: the OEM's registry entry (HKLM\SYSTEM\CurrentControlSet\
 * Control\USBFN\Interfaces\<name>, value InterfaceGUID) gives the
 * function an interface GUID; cfgmgr32 lists the present device interfaces of that GUID as a
 * UTF-16 multi-string of symbolic links, which CreateFileW opens. Arrival and removal are
 * watched in win32-watch.ts.
 */
import createDebug from 'debug';
import { ErrorCodes, UsbFnError } from '../../errors.js';
import { CM_GET_DEVICE_INTERFACE_LIST_PRESENT, CR_BUFFER_SMALL, CR_SUCCESS } from '../../../native-defs/win32-api.js';
import { cfgmgr32 } from './win32-ffi.js';
import { Win32IoctlDevice } from './win32-device.js';

const debug = createDebug('usbfn:win32');
const GUID_PATTERN = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;
/** The list can grow between the size query and the list call; retry this often. */
const LIST_ATTEMPTS = 8;

/** A GUID string ("{xxxxxxxx-xxxx-…}", braces optional) as the 16-byte GUID struct (Data1–3 little-endian). */
export function guidBytes(guid: string): Uint8Array {
  const m = GUID_PATTERN.exec(guid.trim());
  if (!m) throw new UsbFnError(ErrorCodes.INVALID_ARG, `not a GUID: ${JSON.stringify(guid)}`);
  const bytes = Buffer.alloc(16);
  bytes.writeUInt32LE(parseInt(m[1]!, 16), 0);
  bytes.writeUInt16LE(parseInt(m[2]!, 16), 4);
  bytes.writeUInt16LE(parseInt(m[3]!, 16), 6);
  Buffer.from(m[4]! + m[5]!, 'hex').copy(bytes, 8);
  return bytes;
}

/** The strings of a REG_MULTI_SZ-style UTF-16LE buffer: NUL-separated, ended by an empty one. */
export function parseMultiString(buffer: Uint8Array): string[] {
  const text = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength & ~1).toString('utf16le');
  const out: string[] = [];
  for (const part of text.split('\0')) {
    if (part === '') break;
    out.push(part);
  }
  return out;
}

/** A failed cfgmgr32 call as a UsbFnError (DRIVER, the CONFIGRET in the message). */
export function configRetError(cr: number, operation: string): UsbFnError {
  return new UsbFnError(ErrorCodes.DRIVER, `${operation} failed with CONFIGRET 0x${cr.toString(16)}`, { operation });
}

/**
 * Symbolic links of the present device interfaces of `interfaceGuid`, in cfgmgr32's order
 * (empty when there is none). Retries when the list grew between the size query and the read.
 */
export function listDeviceInterfaces(interfaceGuid: string): string[] {
  const cm = cfgmgr32();
  const guid = guidBytes(interfaceGuid);
  for (let attempt = 0; attempt < LIST_ATTEMPTS; attempt++) {
    const chars = [0];
    let cr = cm.CM_Get_Device_Interface_List_SizeW(chars, guid, null, CM_GET_DEVICE_INTERFACE_LIST_PRESENT);
    if (cr !== CR_SUCCESS) throw configRetError(cr, 'CM_Get_Device_Interface_List_SizeW');
    const length = Math.max(1, chars[0]!);
    const buffer = Buffer.alloc(length * 2);
    cr = cm.CM_Get_Device_Interface_ListW(guid, null, buffer, length, CM_GET_DEVICE_INTERFACE_LIST_PRESENT);
    if (cr === CR_BUFFER_SMALL) {
      debug('interface list of %s grew while being read; retrying', interfaceGuid);
      continue;
    }
    if (cr !== CR_SUCCESS) throw configRetError(cr, 'CM_Get_Device_Interface_ListW');
    return parseMultiString(buffer);
  }
  throw new UsbFnError(ErrorCodes.DRIVER, `the interface list of ${interfaceGuid} kept changing (${LIST_ATTEMPTS} attempts)`, {
    operation: 'CM_Get_Device_Interface_ListW',
  });
}

export interface OpenWin32DeviceOptions {
  /** The interface GUID the OEM registered for the function (its InterfaceGUID registry value). */
  interfaceGuid?: string;
  /** Which of the present interfaces of that GUID (default 0, the first listed). */
  index?: number;
  /** A symbolic link to open directly, instead of listing by GUID. */
  symbolicLink?: string;
}

/**
 * Opens a GenericUSBFn.sys device by symbolic link, or by interface GUID (the `index`-th present
 * interface). Throws a UsbFnError: NOT_FOUND when no such interface is present, INVALID_ARG for
 * neither option or a malformed GUID, PLATFORM off Windows (unless a stand-in is configured).
 */
export function openWin32Device(options: OpenWin32DeviceOptions): Win32IoctlDevice {
  if (options.symbolicLink !== undefined) return Win32IoctlDevice.open(options.symbolicLink);
  if (options.interfaceGuid === undefined) {
    throw new UsbFnError(ErrorCodes.INVALID_ARG, 'openWin32Device needs interfaceGuid or symbolicLink');
  }
  const links = listDeviceInterfaces(options.interfaceGuid);
  const index = options.index ?? 0;
  const link = links[index];
  if (link === undefined) {
    throw new UsbFnError(ErrorCodes.NOT_FOUND, `no device interface ${options.interfaceGuid} #${index} is present (${links.length} found)`, {
      operation: 'CM_Get_Device_Interface_ListW',
    });
  }
  return Win32IoctlDevice.open(link);
}
