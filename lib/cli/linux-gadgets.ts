/**
 * What Linux offers for acting as a USB device, read from the kernel's files: UDCs
 * (/sys/class/udc), configfs gadgets (/sys/kernel/config/usb_gadget) and FunctionFS mounts
 * (/proc/mounts). `root` prefixes every path so tests can point it at a fake tree.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface UdcInfo {
  name: string;
  state: string | null;
  currentSpeed: string | null;
}

export interface GadgetInfo {
  name: string;
  /** The UDC it is bound to ('' = not bound). */
  udc: string | null;
  idVendor: string | null;
  idProduct: string | null;
  functions: string[];
}

export interface FunctionFsMount {
  /** The instance name given to mount (`mount -t functionfs <name> <dir>`). */
  name: string;
  mountPoint: string;
}

export interface LinuxGadgetReport {
  udcs: UdcInfo[];
  gadgets: GadgetInfo[];
  functionFsMounts: FunctionFsMount[];
  /** Why a section could not be read (missing configfs, no permission…). */
  problems: string[];
}

async function readTrimmed(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return null;
  }
}

async function list(dir: string, problems: string[], what: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(code === 'ENOENT' ? `${dir} does not exist (${what})` : `cannot read ${dir}: ${code ?? String(err)}`);
    return [];
  }
}

/** Reads the three sources; a missing one is a `problem`, never a throw. */
export async function readLinuxGadgets(root = '/'): Promise<LinuxGadgetReport> {
  const problems: string[] = [];
  const udcDir = path.join(root, 'sys/class/udc');
  const udcs = await Promise.all(
    (await list(udcDir, problems, 'no USB device controller driver loaded')).map(async (name) => ({
      name,
      state: await readTrimmed(path.join(udcDir, name, 'state')),
      currentSpeed: await readTrimmed(path.join(udcDir, name, 'current_speed')),
    })),
  );
  const gadgetDir = path.join(root, 'sys/kernel/config/usb_gadget');
  const gadgets = await Promise.all(
    (await list(gadgetDir, problems, 'configfs not mounted or libcomposite not loaded')).map(async (name) => ({
      name,
      udc: await readTrimmed(path.join(gadgetDir, name, 'UDC')),
      idVendor: await readTrimmed(path.join(gadgetDir, name, 'idVendor')),
      idProduct: await readTrimmed(path.join(gadgetDir, name, 'idProduct')),
      functions: await list(path.join(gadgetDir, name, 'functions'), [], ''),
    })),
  );
  const mounts = await readTrimmed(path.join(root, 'proc/mounts'));
  if (mounts === null) problems.push(`cannot read ${path.join(root, 'proc/mounts')}`);
  const functionFsMounts = (mounts ?? '')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f[2] === 'functionfs')
    .map((f) => ({ name: f[0], mountPoint: f[1].replace(/\\040/g, ' ') }));
  return { udcs, gadgets, functionFsMounts, problems };
}
