/**
 * FunctionFS (linux/usb/functionfs.h) as pure data: the descriptors v2 and strings blobs written
 * to ep0, the 12-byte events read from it, and the ioctl numbers. Loads no native code.
 * All multi-byte fields are little-endian, as the kernel requires.
 */
import { CodecError, decodeSetupPacket, type SetupPacket } from './codec-core.js';

export const FUNCTIONFS_DESCRIPTORS_MAGIC_V2 = 3;
export const FUNCTIONFS_STRINGS_MAGIC = 2;

export const FUNCTIONFS_HAS_FS_DESC = 1;
export const FUNCTIONFS_HAS_HS_DESC = 2;
export const FUNCTIONFS_HAS_SS_DESC = 4;
export const FUNCTIONFS_HAS_MS_OS_DESC = 8;
/**
 * Forward control requests of every recipient the kernel does not answer itself (device,
 * "other") to ep0, wIndex as sent (Linux ≥ 4.6). Without it f_fs.c stalls them, and a device whose
 * vendor requests name the device recipient (as the emulator and GenericUSBFn.sys take them)
 * would work on Windows and not on Linux. In a gadget of several FunctionFS functions, the first
 * in the configuration gets them.
 */
export const FUNCTIONFS_ALL_CTRL_RECIP = 64;

/** Event types of struct usb_functionfs_event. */
export const FfsEventType = Object.freeze({ BIND: 0, UNBIND: 1, ENABLE: 2, DISABLE: 3, SETUP: 4, SUSPEND: 5, RESUME: 6 } as const);
export type FfsEventName = keyof typeof FfsEventType;
const EVENT_NAMES: readonly FfsEventName[] = ['BIND', 'UNBIND', 'ENABLE', 'DISABLE', 'SETUP', 'SUSPEND', 'RESUME'];

/** sizeof(struct usb_functionfs_event): 8-byte union (the setup packet), u8 type, 3 pad bytes. */
export const FFS_EVENT_SIZE = 12;

const IOC = (dir: number, type: number, nr: number, size: number) => ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
const G = 0x67; // 'g'
/** ioctl numbers on FunctionFS endpoint files (the generic _IO/_IOR encoding of x86, arm, arm64, riscv). */
export const FFS_IOCTL = Object.freeze({
  FIFO_STATUS: IOC(0, G, 1, 0),
  FIFO_FLUSH: IOC(0, G, 2, 0),
  CLEAR_HALT: IOC(0, G, 3, 0),
  INTERFACE_REVMAP: IOC(0, G, 128, 0),
  ENDPOINT_REVMAP: IOC(0, G, 129, 0),
  /** _IOR('g', 130, struct usb_endpoint_descriptor): 9 bytes (the audio variant). */
  ENDPOINT_DESC: IOC(2, G, 130, 9),
});

/** One speed's descriptors as the kernel wants them: concatenated, each starting with bLength. */
export interface FfsSpeedDescriptors {
  full: Uint8Array;
  high: Uint8Array;
  super?: Uint8Array;
}

/** One MS OS 1.0 extended compat ID entry for an interface of the function. */
export interface FfsExtCompat {
  interfaceNumber: number;
  compatibleId: string;
  subCompatibleId: string;
}

/** Counts the descriptors in a concatenation by walking bLength; throws CodecError on a bad length. */
export function countDescriptors(bytes: Uint8Array): number {
  let count = 0;
  for (let at = 0; at < bytes.length; count++) {
    const len = bytes[at]!;
    if (len < 2 || at + len > bytes.length) throw new CodecError(`descriptor at offset ${at} has bLength ${len} past the ${bytes.length}-byte set`, 'bLength');
    at += len;
  }
  return count;
}

const le32 = (v: number) => Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

const ascii8 = (s: string) => {
  const out = new Uint8Array(8);
  for (let i = 0; i < Math.min(8, s.length); i++) out[i] = s.charCodeAt(i) & 0x7f;
  return out;
};

/**
 * One MS OS extended compat descriptor as FunctionFS reads it: struct usb_os_desc_header
 * (u8 interface, le32 dwLength, le16 bcdVersion 0x0100, le16 wIndex 4, u8 bCount, u8 reserved)
 * then one 24-byte usb_ext_compat_desc (bFirstInterfaceNumber, Reserved1 = 1, CompatibleID[8],
 * SubCompatibleID[8], Reserved2[6] = 0).
 */
export function encodeExtCompatDescriptor(e: FfsExtCompat): Uint8Array {
  const out = new Uint8Array(11 + 24);
  const view = new DataView(out.buffer);
  out[0] = e.interfaceNumber;
  view.setUint32(1, out.length, true);
  view.setUint16(5, 0x0100, true);
  view.setUint16(7, 4, true);
  out[9] = 1; // bCount: one function entry
  out[11] = e.interfaceNumber;
  out[12] = 1; // Reserved1: the spec and the kernel want 1
  out.set(ascii8(e.compatibleId), 13);
  out.set(ascii8(e.subCompatibleId), 21);
  return out;
}

/**
 * The FUNCTIONFS_DESCRIPTORS_MAGIC_V2 blob: header (magic, length, flags), one le32 count per
 * flag set (fs, hs, ss, os), then the fs, hs, ss descriptors and the MS OS descriptors.
 */
export function encodeFfsDescriptors(d: FfsSpeedDescriptors, extCompat: FfsExtCompat[] = []): Uint8Array {
  let flags = FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC | FUNCTIONFS_ALL_CTRL_RECIP;
  const counts = [countDescriptors(d.full), countDescriptors(d.high)];
  const bodies = [d.full, d.high];
  if (d.super) {
    flags |= FUNCTIONFS_HAS_SS_DESC;
    counts.push(countDescriptors(d.super));
    bodies.push(d.super);
  }
  if (extCompat.length > 0) {
    flags |= FUNCTIONFS_HAS_MS_OS_DESC;
    counts.push(extCompat.length);
    bodies.push(...extCompat.map(encodeExtCompatDescriptor));
  }
  const tail = concat([...counts.map(le32), ...bodies]);
  return concat([le32(FUNCTIONFS_DESCRIPTORS_MAGIC_V2), le32(12 + tail.length), le32(flags), tail]);
}

/** Strings of one language: string i + 1 is `strings[i]`. */
export interface FfsLanguageStrings {
  langId: number;
  strings: string[];
}

/**
 * The FUNCTIONFS_STRINGS_MAGIC blob: header (magic, length, str_count, lang_count), then per
 * language le16 code and str_count NUL-terminated UTF-8 strings. Every language must carry the
 * same number of strings (the kernel's rule); throws CodecError otherwise or on an embedded NUL.
 */
export function encodeFfsStrings(languages: FfsLanguageStrings[]): Uint8Array {
  const count = languages[0]?.strings.length ?? 0;
  const parts: Uint8Array[] = [];
  for (const lang of languages) {
    if (lang.strings.length !== count) throw new CodecError('every language must have the same number of strings', 'str_count');
    parts.push(Uint8Array.of(lang.langId & 0xff, lang.langId >> 8));
    for (const s of lang.strings) {
      if (s.includes('\0')) throw new CodecError('a FunctionFS string cannot contain NUL', 'str');
      parts.push(new TextEncoder().encode(s + '\0'));
    }
  }
  const body = concat(parts);
  return concat([le32(FUNCTIONFS_STRINGS_MAGIC), le32(16 + body.length), le32(count), le32(languages.length), body]);
}

/** One decoded ep0 event. `setup` only for SETUP; unknown types keep their number as `type`. */
export type FfsEvent = { type: FfsEventName; setup?: SetupPacket } | { type: number };

/**
 * Decodes every whole event in `bytes` (a read() of ep0 returns whole events). Throws CodecError
 * when the length is not a multiple of 12: a read is never trusted beyond its own size.
 */
export function decodeFfsEvents(bytes: Uint8Array): FfsEvent[] {
  if (bytes.length % FFS_EVENT_SIZE !== 0) throw new CodecError(`ep0 read returned ${bytes.length} bytes, not a multiple of ${FFS_EVENT_SIZE}`, 'usb_functionfs_event');
  const events: FfsEvent[] = [];
  for (let at = 0; at < bytes.length; at += FFS_EVENT_SIZE) {
    const code = bytes[at + 8]!;
    const name = EVENT_NAMES[code];
    if (name === undefined) events.push({ type: code });
    else if (name === 'SETUP') events.push({ type: name, setup: decodeSetupPacket(bytes.subarray(at, at + 8)) });
    else events.push({ type: name });
  }
  return events;
}
