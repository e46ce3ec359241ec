/**
 * The UDC's sysfs view: FunctionFS has no reset or speed event, so the link speed is read from
 * /sys/class/udc/<udc>/current_speed when the function is enabled.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BusSpeed } from '../driver.js';

/** Where UDCs appear. Overridable for tests. */
export const UDC_CLASS_DIR = '/sys/class/udc';

/** The UDCs present (e.g. ['dummy_udc.0'], ['fe980000.usb']); empty when none or no sysfs. */
export function listUdcs(dir = UDC_CLASS_DIR): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** current_speed's text ('high-speed', 'super-speed-plus', 'UNKNOWN'…) as a BusSpeed, or null. */
export function parseUdcSpeed(text: string): BusSpeed | null {
  const t = text.trim();
  if (t === 'low-speed') return 'low';
  if (t === 'full-speed') return 'full';
  if (t === 'high-speed' || t === 'wireless') return 'high';
  if (t.startsWith('super-speed')) return 'super';
  return null;
}

/** The UDC's current link speed, or null when unknown (no UDC named, not connected, no sysfs). */
export function readUdcSpeed(udc: string | undefined, dir = UDC_CLASS_DIR): BusSpeed | null {
  const name = udc ?? (listUdcs(dir).length === 1 ? listUdcs(dir)[0] : undefined);
  if (!name) return null;
  try {
    return parseUdcSpeed(fs.readFileSync(path.join(dir, name, 'current_speed'), 'utf8'));
  } catch {
    return null;
  }
}
