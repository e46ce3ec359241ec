/** `usbfn list`: what this machine offers for acting as a USB device. */
import { COMMON_OPTIONS, EXIT_HELP, type Command } from '../command.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { readLinuxGadgets, type LinuxGadgetReport } from '../linux-gadgets.js';
import { DEFAULT_SERIAL_GUID } from '../../protocols/cdc-acm.js';

function linuxText(r: LinuxGadgetReport): string[] {
  const lines: string[] = [];
  lines.push('USB device controllers (/sys/class/udc):');
  if (r.udcs.length === 0) lines.push('  none: this machine cannot act as a USB device (for testing: modprobe dummy_hcd)');
  for (const u of r.udcs) lines.push(`  ${u.name}  state ${u.state ?? '?'}  speed ${u.currentSpeed ?? '?'}`);
  lines.push('configfs gadgets (/sys/kernel/config/usb_gadget):');
  if (r.gadgets.length === 0) lines.push('  none (modprobe libcomposite; mount -t configfs none /sys/kernel/config)');
  for (const g of r.gadgets) {
    lines.push(`  ${g.name}  ${g.idVendor ?? '?'}:${g.idProduct ?? '?'}  bound to ${g.udc ? g.udc : '(no UDC)'}  functions: ${g.functions.join(', ') || '(none)'}`);
  }
  lines.push('FunctionFS mounts (/proc/mounts):');
  if (r.functionFsMounts.length === 0) lines.push('  none (mount -t functionfs <instance> <dir> after creating functions/ffs.<instance>)');
  for (const m of r.functionFsMounts) lines.push(`  ${m.name}  at ${m.mountPoint}`);
  for (const p of r.problems) lines.push(`note: ${p}`);
  return lines;
}

async function listWindows(guids: string[]): Promise<Array<{ interfaceGuid: string; paths: string[] }>> {
  // Imported here, never at start-up: the koffi backend loads only on Windows, only for this.
  const { listDeviceInterfaces } = await import('../../driver/genericusbfn/win32-discovery.js');
  return guids.map((interfaceGuid) => ({ interfaceGuid, paths: listDeviceInterfaces(interfaceGuid) }));
}

export const listCommand: Command = {
  name: 'list',
  summary: 'show what this machine offers for acting as a USB device',
  help: `usbfn list [--json] [--guid {GUID}]...

Linux: USB device controllers (UDCs), configfs gadgets and FunctionFS mounts.
Windows: the GenericUSBFn device interfaces present for each InterfaceGUID (--guid, repeatable;
default: the GUIDs usbfn windows-config declares).

  --guid {GUID}    Windows: an InterfaceGUID to look for (repeatable)
  --json           one JSON document on stdout
  -h, --help       this help

The USBFN_SYSFS_ROOT environment variable prefixes /sys and /proc (for tests).
${EXIT_HELP}`,
  options: { ...COMMON_OPTIONS, guid: { type: 'string', multiple: true } },
  async run({ values, out, io }) {
    if (io.platform === 'linux') {
      const report = await readLinuxGadgets(io.env.USBFN_SYSFS_ROOT || '/');
      out.result({ platform: 'linux', ...report }, linuxText(report));
      return ExitCode.OK;
    }
    if (io.platform === 'win32') {
      const given = values.guid as unknown as string[] | undefined;
      const found = await listWindows(given?.length ? given : ['{8A5D1D72-5E6B-4B1C-9E1F-3C0D2B7A6E15}', DEFAULT_SERIAL_GUID]);
      const text = found.map((f) => `${f.interfaceGuid}: ${f.paths.length ? f.paths.join('\n  ') : 'no device interface (is the interface in CurrentConfiguration? see usbfn windows-config)'}`);
      out.result({ platform: 'win32', interfaces: found }, text);
      return ExitCode.OK;
    }
    throw new CliError(ExitCode.UNAVAILABLE, `list: nothing to list on ${io.platform}: usbfn acts as a USB device on Linux and Windows`, 'use --emulate with the other commands', 'USBFN_ERR_PLATFORM');
  },
};
