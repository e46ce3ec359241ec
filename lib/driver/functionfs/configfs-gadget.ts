/**
 * A configfs gadget helper: creates a gadget with one configuration and one or more FunctionFS
 * functions, mounts each function's FunctionFS instance, binds the gadget to a UDC once every
 * instance has its descriptors (the kernel refuses earlier), and tears it all down again.
 *
 * Failures say what is missing, with a stable code: USBFN_ERR_PLATFORM for not root, configfs
 * not mounted, libcomposite or usb_f_fs not loaded, no UDC; USBFN_ERR_INVALID_STATE when the
 * gadget exists already and `reuse` is false. Called by openFunctionFs() (UsbFnDevice.open()
 * on Linux); usable alone by scripts that need a composite gadget.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import createDebug from 'debug';
import { ErrorCodes, UsbFnError } from '../../errors.js';
import { fromNodeError } from './errors.js';
import { listUdcs, UDC_CLASS_DIR } from './udc.js';

const debug = createDebug('usbfn:ffs:gadget');

/** What the gadget looks like to the host. */
export interface GadgetOptions {
  /** The gadget's directory name under usb_gadget/. Default 'usbfn'. */
  name?: string;
  /** idVendor / idProduct. Default 0x1d6b / 0x0104 (Linux Foundation multifunction composite gadget). */
  vendorId?: number;
  productId?: number;
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
  /** FunctionFS instance names, one function each ('usbfn' → functions/ffs.usbfn). Default ['usbfn']. */
  functions?: string[];
  /** The UDC to bind to. Default: the first in /sys/class/udc. */
  udc?: string;
  /** Where instances are mounted: <mountRoot>/<instance>. Default '/dev/usb-ffs'. */
  mountRoot?: string;
  /** bMaxPower in mA. Default 100. */
  maxPower?: number;
  /** Enable MS OS descriptors (os_desc, vendor code 0xcd, "MSFT100") so Windows binds WinUSB. */
  msOs?: boolean;
  /** Reuse a gadget of this name if it exists (default true); false refuses with INVALID_STATE. */
  reuse?: boolean;
  /** configfs mount point. Default '/sys/kernel/config'. */
  configfsRoot?: string;
  /** Try `modprobe libcomposite` / `usb_f_fs` when they seem missing. Default true. */
  loadModules?: boolean;
  /** Where UDCs are listed. Default '/sys/class/udc'. */
  udcClassDir?: string;
}

/** A created gadget; see the module comment. */
export interface Gadget {
  dir: string;
  udc: string;
  /** Mount point of each FunctionFS instance, by instance name. */
  mountPoints: Record<string, string>;
  /** Writes the UDC name: call after every instance has its descriptors. */
  bind(): Promise<void>;
  /** Clears the UDC (the host sees a disconnect). */
  unbind(): Promise<void>;
  /** Unbinds, unmounts the instances and removes the gadget's configfs tree. Idempotent. */
  teardown(): Promise<void>;
}

const missing = (what: string) => new UsbFnError(ErrorCodes.PLATFORM, what, { operation: 'createGadget' });
const hex4 = (n: number) => '0x' + n.toString(16).padStart(4, '0');

/** Loads a kernel module quietly; whether it worked shows in what appears in configfs. */
function modprobe(module: string, allowed: boolean): void {
  if (!allowed) return;
  try {
    execFileSync('modprobe', [module], { stdio: 'ignore' });
  } catch {
    debug('modprobe %s failed', module);
  }
}

/** The usb_gadget directory, mounting configfs and loading libcomposite if needed. */
function gadgetRoot(configfsRoot: string, loadModules: boolean): string {
  if (process.getuid?.() !== 0) throw missing('creating a USB gadget needs root (configfs and mount): run as root, or set the gadget up beforehand and pass its FunctionFS mount point');
  const root = path.join(configfsRoot, 'usb_gadget');
  if (!fs.existsSync(root)) modprobe('libcomposite', loadModules);
  if (!fs.existsSync(configfsRoot) || fs.readdirSync(configfsRoot).length === 0) {
    try {
      execFileSync('mount', ['-t', 'configfs', 'none', configfsRoot], { stdio: 'ignore' });
    } catch {
      throw missing(`configfs is not mounted at ${configfsRoot} and mounting it failed (kernel without CONFIG_CONFIGFS_FS?)`);
    }
  }
  if (!fs.existsSync(root)) throw missing(`${root} is missing: the libcomposite module is not loaded (modprobe libcomposite)`);
  return root;
}

function write(file: string, value: string): void {
  try {
    fs.writeFileSync(file, value);
  } catch (err) {
    throw fromNodeError(err, `write ${value.trim() || '""'} to ${file}`);
  }
}

function mkdir(dir: string, what: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw Object.assign(missing(what), { cause: err });
  }
}

function chooseUdc(wanted: string | undefined, dir: string): string {
  const udcs = listUdcs(dir);
  if (wanted) {
    if (!udcs.includes(wanted)) throw missing(`UDC ${wanted} is not in ${dir} (present: ${udcs.join(', ') || 'none'})`);
    return wanted;
  }
  if (udcs.length === 0) throw missing(`no USB device controller (UDC) in ${dir}: load the board's UDC driver (dwc2 on a Raspberry Pi, dummy_hcd for a virtual one)`);
  return udcs[0]!;
}

/** Creates (or reuses) the gadget and mounts its FunctionFS instances; does not bind it yet. */
export async function createGadget(o: GadgetOptions = {}): Promise<Gadget> {
  const root = gadgetRoot(o.configfsRoot ?? '/sys/kernel/config', o.loadModules ?? true);
  const dir = path.join(root, o.name ?? 'usbfn');
  if (fs.existsSync(dir) && o.reuse === false) throw new UsbFnError(ErrorCodes.INVALID_STATE, `gadget ${dir} exists already`);
  const udc = chooseUdc(o.udc, o.udcClassDir ?? UDC_CLASS_DIR);
  const instances = o.functions ?? ['usbfn'];
  mkdir(dir, `cannot create ${dir}`);
  write(path.join(dir, 'idVendor'), hex4(o.vendorId ?? 0x1d6b));
  write(path.join(dir, 'idProduct'), hex4(o.productId ?? 0x0104));
  write(path.join(dir, 'bcdUSB'), '0x0200');
  mkdir(path.join(dir, 'strings/0x409'), 'cannot create the gadget strings');
  write(path.join(dir, 'strings/0x409/manufacturer'), o.manufacturer ?? 'usbfn');
  write(path.join(dir, 'strings/0x409/product'), o.product ?? 'usbfn device');
  write(path.join(dir, 'strings/0x409/serialnumber'), o.serialNumber ?? '0123456789');
  const config = path.join(dir, 'configs/c.1');
  mkdir(path.join(config, 'strings/0x409'), 'cannot create the configuration');
  write(path.join(config, 'strings/0x409/configuration'), 'usbfn');
  write(path.join(config, 'MaxPower'), String(o.maxPower ?? 100));
  if (o.msOs) enableOsDesc(dir, config);
  const mountPoints: Record<string, string> = {};
  for (const instance of instances) mountPoints[instance] = addFunction(dir, config, instance, o.mountRoot ?? '/dev/usb-ffs', o.loadModules ?? true);
  debug('gadget %s ready for %s', dir, udc);
  return gadgetHandle(dir, udc, config, mountPoints);
}

function enableOsDesc(dir: string, config: string): void {
  write(path.join(dir, 'os_desc/use'), '1');
  write(path.join(dir, 'os_desc/b_vendor_code'), '0xcd');
  write(path.join(dir, 'os_desc/qw_sign'), 'MSFT100');
  const link = path.join(dir, 'os_desc/c.1');
  if (!fs.existsSync(link)) fs.symlinkSync(config, link);
}

function addFunction(dir: string, config: string, instance: string, mountRoot: string, loadModules: boolean): string {
  const fn = path.join(dir, 'functions', `ffs.${instance}`);
  if (!fs.existsSync(fn)) {
    modprobe('usb_f_fs', loadModules);
    mkdir(fn, `cannot create ${fn}: the usb_f_fs module is not loaded (modprobe usb_f_fs) or the instance name is taken`);
  }
  const link = path.join(config, `ffs.${instance}`);
  if (!fs.existsSync(link)) fs.symlinkSync(fn, link);
  const mountPoint = path.join(mountRoot, instance);
  fs.mkdirSync(mountPoint, { recursive: true });
  if (!fs.existsSync(path.join(mountPoint, 'ep0'))) {
    try {
      execFileSync('mount', ['-t', 'functionfs', instance, mountPoint], { stdio: 'ignore' });
    } catch (err) {
      throw Object.assign(missing(`mounting FunctionFS instance ${instance} at ${mountPoint} failed`), { cause: err });
    }
  }
  return mountPoint;
}

function gadgetHandle(dir: string, udc: string, config: string, mountPoints: Record<string, string>): Gadget {
  const udcFile = path.join(dir, 'UDC');
  const bound = () => fs.readFileSync(udcFile, 'utf8').trim() !== '';
  let torn = false;
  const g: Gadget = {
    dir,
    udc,
    mountPoints,
    async bind() {
      if (!bound()) write(udcFile, udc);
    },
    async unbind() {
      if (fs.existsSync(udcFile) && bound()) write(udcFile, '\n');
    },
    async teardown() {
      if (torn) return;
      torn = true;
      await g.unbind();
      for (const [instance, mountPoint] of Object.entries(mountPoints)) {
        try {
          execFileSync('umount', [mountPoint], { stdio: 'ignore' });
        } catch {
          debug('umount %s failed', mountPoint);
        }
        removeQuietly(() => fs.unlinkSync(path.join(config, `ffs.${instance}`)));
        removeQuietly(() => fs.rmdirSync(path.join(dir, 'functions', `ffs.${instance}`)));
      }
      removeQuietly(() => fs.unlinkSync(path.join(dir, 'os_desc/c.1')));
      for (const d of [path.join(config, 'strings/0x409'), config, path.join(dir, 'strings/0x409'), dir]) removeQuietly(() => fs.rmdirSync(d));
    },
  };
  return g;
}

function removeQuietly(remove: () => void): void {
  try {
    remove();
  } catch (err) {
    debug('teardown: %s', (err as Error).message);
  }
}
