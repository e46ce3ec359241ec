/**
 * One CM_Register_Notification registration with a JS callback, and its unregistration.
 *
 * cfgmgr32 calls the callback on a thread of its own. koffi runs a JS callback called from a
 * foreign thread on the main thread and blocks that foreign thread until the JS returns, so
 * handlers must only copy what they need and return at once. CM_Unregister_Notification waits
 * for callbacks in progress, and must not run on the main thread (a callback waiting to run there
 * would wait forever) nor on libuv's threadpool: Node joins those threads when the process ends,
 * so `watcher.close(); process.exit()` while a notification was being delivered deadlocked (the
 * pool thread waited for the callback, the callback for the main thread, the main thread for the
 * pool thread). It runs instead on a thread of its own: CM_Unregister_Notification has exactly a
 * thread start routine's signature (DWORD WINAPI f(PVOID)), so CreateThread runs it directly and
 * its exit code is the CONFIGRET. Nothing joins that thread; at process exit Windows ends it.
 * close() polls GetExitCodeThread (a few turns, then up to every 20 ms: closing is rare) and frees
 * the JS callback's trampoline only once cfgmgr32 can no longer call it.
 */
import koffi from 'koffi';
import createDebug from 'debug';
import {
  CM_NOTIFY_ACTION_DEVICEQUERYREMOVE, CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE, CM_NOTIFY_ACTION_DEVICEREMOVEPENDING,
  CM_NOTIFY_FILTER_HANDLE_OFFSET, CM_NOTIFY_FILTER_SIZE, CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE, CR_SUCCESS, STILL_ACTIVE,
} from '../../../native-defs/win32-api.js';
import { CM_NOTIFY_CALLBACK, POINTER_SIZE, cfgmgr32, kernel32, type Pointer } from './win32-ffi.js';
import { configRetError } from './win32-discovery.js';

const debug = createDebug('usbfn:win32');

/** Runs on the main thread while cfgmgr32's thread waits; returns the callback's DWORD. */
export type NotificationHandler = (action: number, data: Pointer, size: number) => number;

export class CmNotification {
  private readonly callback: bigint;
  private readonly handle: bigint;
  private closed: Promise<void> | null = null;

  /** Registers `filter` (a CM_NOTIFY_FILTER, copied by cfgmgr32). Throws a UsbFnError on failure. */
  constructor(filter: Uint8Array, handler: NotificationHandler) {
    const onNotify = (_h: Pointer, _context: Pointer, action: number, data: Pointer, size: number) => handler(action, data, size);
    this.callback = koffi.register(onNotify, koffi.pointer(CM_NOTIFY_CALLBACK));
    const out: Pointer[] = [null];
    const cr = cfgmgr32().CM_Register_Notification(filter, null, this.callback, out);
    if (cr !== CR_SUCCESS || out[0] === null) {
      koffi.unregister(this.callback);
      throw configRetError(cr, 'CM_Register_Notification');
    }
    this.handle = out[0]!;
  }

  /** Unregisters; resolves once no callback can run any more. Idempotent; safe inside the handler. */
  close(): Promise<void> {
    this.closed ??= this.unregister();
    return this.closed;
  }

  private async unregister(): Promise<void> {
    const k32 = kernel32();
    const thread = k32.CreateThread(null, 0, cfgmgr32().unregisterAddress, this.handle, 0, null);
    if (thread === null) {
      // Still registered: keep the trampoline (a leak) rather than let cfgmgr32 call a freed one.
      debug('CreateThread (CM_Unregister_Notification) failed: %d', k32.GetLastError());
      return;
    }
    const code = [STILL_ACTIVE];
    for (let i = 0; k32.GetExitCodeThread(thread, code) && code[0] === STILL_ACTIVE; i++) {
      await new Promise<void>((resolve) => (i < 8 ? setImmediate(resolve) : setTimeout(resolve, Math.min(20, 1 << (i - 8)))));
    }
    k32.CloseHandle(thread);
    if (code[0] === CR_SUCCESS) koffi.unregister(this.callback);
    else debug('CM_Unregister_Notification: CONFIGRET 0x%s; the callback stays registered', code[0]!.toString(16));
  }
}

/**
 * Registers for the removal of the device behind `handle` (CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE):
 * `onRemoval` runs on DEVICEQUERYREMOVE, DEVICEREMOVEPENDING and DEVICEREMOVECOMPLETE, on the JS
 * thread while cfgmgr32's waits, and must close the handle before it returns (an open handle
 * vetoes the query-remove). The callback never vetoes. null, logged, if cfgmgr32 refuses: the
 * device then works as before, it just cannot be removed while open.
 */
export function watchHandleRemoval(handle: bigint, path: string, onRemoval: () => void): CmNotification | null {
  const filter = Buffer.alloc(CM_NOTIFY_FILTER_SIZE);
  filter.writeUInt32LE(CM_NOTIFY_FILTER_SIZE, 0); // cbSize
  filter.writeUInt32LE(CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE, 8);
  if (POINTER_SIZE === 8) filter.writeBigUInt64LE(handle, CM_NOTIFY_FILTER_HANDLE_OFFSET);
  else filter.writeUInt32LE(Number(handle), CM_NOTIFY_FILTER_HANDLE_OFFSET);
  const removing = new Set([CM_NOTIFY_ACTION_DEVICEQUERYREMOVE, CM_NOTIFY_ACTION_DEVICEREMOVEPENDING, CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE]);
  try {
    return new CmNotification(filter, (action) => {
      if (removing.has(action)) onRemoval();
      else debug('%s: device-handle notification %d', path, action);
      return 0; // ERROR_SUCCESS: a query-remove may proceed
    });
  } catch (err) {
    debug('%s: cannot register for its removal (%s): it will veto query-remove while open', path, (err as Error).message);
    return null;
  }
}
