/**
 * FunctionFS ep0 events → usbfn bus events. The mapping (pure, unit-tested):
 *
 * | FunctionFS | BusEvent(s)                                       | why                                      |
 * |------------|---------------------------------------------------|------------------------------------------|
 * | BIND       | attach (speed: UDC's current_speed, or 0)         | the function is bound to a UDC           |
 * | ENABLE     | reset (speed from sysfs), then configured (1)     | set_alt after SET_CONFIGURATION: the     |
 * |            |                                                   | endpoints work; FunctionFS has no reset  |
 * |            |                                                   | event, so the synthetic reset carries    |
 * |            |                                                   | the speed; the configuration value is    |
 * |            |                                                   | not reported: 1                          |
 * | DISABLE    | unconfigured                                      | host reset, SET_CONFIGURATION 0 or       |
 * |            |                                                   | disconnect: pending I/O ends ESHUTDOWN    |
 * | UNBIND     | detach                                            | the function left the UDC                |
 * | SETUP      | setup                                             | class/vendor request to the interface    |
 * |            |                                                   | or an endpoint (standard ones stay in    |
 * |            |                                                   | the kernel)                              |
 * | SUSPEND    | suspend                                           |                                          |
 * | RESUME     | resume                                            |                                          |
 * | other      | unknown (code, raw 12 bytes)                      |                                          |
 *
 * No equivalent: porttype, busteardown, setinterface (FunctionFS answers SET_INTERFACE itself
 * with DISABLE + ENABLE), and the host's bus reset itself (seen only as DISABLE).
 */
import type { BusEvent, BusSpeed } from '../driver.js';
import { decodeFfsEvents, FFS_EVENT_SIZE } from '../../../native-defs/functionfs.js';

/** The configuration value reported on ENABLE (FunctionFS does not say which). */
export const FFS_CONFIGURATION_VALUE = 1;

/** Maps the events of one ep0 read; `speed()` is asked (sysfs) only when an event needs it. */
export function mapFfsEvents(bytes: Uint8Array, speed: () => BusSpeed | null): BusEvent[] {
  const out: BusEvent[] = [];
  const events = decodeFfsEvents(bytes);
  events.forEach((e, i) => {
    switch (e.type) {
      case 'BIND':
        out.push({ type: 'attach', speed: speed() ?? 0 });
        break;
      case 'ENABLE':
        out.push({ type: 'reset', speed: speed() ?? 0 }, { type: 'configured', configurationValue: FFS_CONFIGURATION_VALUE });
        break;
      case 'DISABLE':
        out.push({ type: 'unconfigured' });
        break;
      case 'UNBIND':
        out.push({ type: 'detach' });
        break;
      case 'SETUP':
        out.push({ type: 'setup', setup: (e as { setup: NonNullable<BusEvent & { type: 'setup' }>['setup'] }).setup });
        break;
      case 'SUSPEND':
        out.push({ type: 'suspend' });
        break;
      case 'RESUME':
        out.push({ type: 'resume' });
        break;
      default:
        out.push({ type: 'unknown', code: e.type as number, raw: bytes.slice(i * FFS_EVENT_SIZE, (i + 1) * FFS_EVENT_SIZE) });
    }
  });
  return out;
}
