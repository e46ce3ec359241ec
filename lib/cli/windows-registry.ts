/**
 * The Windows registry configuration for usbfn interfaces, as a .reg file (regedit's "Version
 * 5.00" format), following the USBFN layout (Microsoft's "USB registry
 * settings for a function controller driver"):
 *
 *   HKLM\SYSTEM\CurrentControlSet\Control\USBFN\Interfaces\<name>
 *     InterfaceGUID        REG_SZ      the device interface GUID GenericUSBFn.sys publishes
 *     InterfaceDescriptor  REG_BINARY  interface + class-specific + endpoint descriptors
 *                                      (bInterfaceNumber and iInterface are filled in by the stack)
 *   HKLM\…\USBFN\Configurations\<configuration>
 *     InterfaceList        REG_MULTI_SZ the interfaces of this configuration, in order
 *   HKLM\…\USBFN
 *     CurrentConfiguration REG_SZ      selects the configuration above
 *     idVendor, idProduct  REG_DWORD   and ManufacturerString, ProductString (REG_SZ), if given
 *     IncludeDefaultCfg    REG_DWORD   1 keeps Microsoft's default interfaces (IpOverUsb, MTP), if asked
 */
import { descriptorSet, validateDeclaration, type InterfaceDeclaration } from '../protocols/interface-declaration.js';

const USBFN_KEY = 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\USBFN';

/** Device-level values; each is written only when given. */
export interface DeviceIdentity {
  configuration: string;
  idVendor?: number;
  idProduct?: number;
  manufacturer?: string;
  product?: string;
  includeDefaultConfiguration?: boolean;
}

/** A value as regedit writes it. */
type RegValue = { type: 'sz'; value: string } | { type: 'binary'; value: Uint8Array } | { type: 'multi_sz'; value: string[] } | { type: 'dword'; value: number };

export interface RegKey {
  path: string;
  values: Record<string, RegValue>;
}

/** The keys and values for these interfaces, in the order they are written. */
export function registryKeys(functions: InterfaceDeclaration[], identity: DeviceIdentity): RegKey[] {
  functions.forEach(validateDeclaration);
  const keys: RegKey[] = functions.map((f) => ({
    path: `${USBFN_KEY}\\Interfaces\\${f.name}`,
    values: {
      InterfaceGUID: { type: 'sz', value: f.interfaceGuid },
      InterfaceDescriptor: { type: 'binary', value: descriptorSet(f, 'high') },
    },
  }));
  keys.push({ path: `${USBFN_KEY}\\Configurations\\${identity.configuration}`, values: { InterfaceList: { type: 'multi_sz', value: functions.map((f) => f.name) } } });
  const device: Record<string, RegValue> = { CurrentConfiguration: { type: 'sz', value: identity.configuration } };
  if (identity.idVendor !== undefined) device.idVendor = { type: 'dword', value: identity.idVendor };
  if (identity.idProduct !== undefined) device.idProduct = { type: 'dword', value: identity.idProduct };
  if (identity.manufacturer !== undefined) device.ManufacturerString = { type: 'sz', value: identity.manufacturer };
  if (identity.product !== undefined) device.ProductString = { type: 'sz', value: identity.product };
  if (identity.includeDefaultConfiguration) device.IncludeDefaultCfg = { type: 'dword', value: 1 };
  keys.push({ path: USBFN_KEY, values: device });
  return keys;
}

/** regedit's hex list, wrapped with `\` continuations as regedit does. */
function hexList(prefix: string, bytes: Uint8Array): string {
  const parts = [...bytes].map((b) => b.toString(16).padStart(2, '0'));
  const lines: string[] = [];
  for (let i = 0; i < parts.length; i += 24) lines.push(parts.slice(i, i + 24).join(','));
  return `${prefix}${lines.join(',\\\r\n  ')}`;
}

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function formatValue(name: string, v: RegValue): string {
  const key = quote(name);
  switch (v.type) {
    case 'sz':
      return `${key}=${quote(v.value)}`;
    case 'dword':
      return `${key}=dword:${(v.value >>> 0).toString(16).padStart(8, '0')}`;
    case 'binary':
      return hexList(`${key}=hex:`, v.value);
    case 'multi_sz':
      return hexList(`${key}=hex(7):`, Buffer.from(`${v.value.join('\0')}\0\0`, 'utf16le'));
  }
}

/** The .reg text (CRLF line ends), with `comments` as `;` lines after the header. */
export function formatRegFile(keys: RegKey[], comments: string[] = []): string {
  const lines = ['Windows Registry Editor Version 5.00', '', ...comments.map((c) => `; ${c}`), ''];
  for (const key of keys) {
    lines.push(`[${key.path}]`, ...Object.entries(key.values).map(([name, v]) => formatValue(name, v)), '');
  }
  return lines.join('\r\n');
}

/** The .reg file as regedit writes it: UTF-16LE with a byte-order mark. */
export function regFileBytes(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}
