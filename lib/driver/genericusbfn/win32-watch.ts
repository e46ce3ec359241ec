/**
 * Device interface arrival and removal as events, through CM_Register_Notification.
 *
 * cfgmgr32 calls the callback on a thread of its own. koffi runs a JS callback called from a
 * foreign thread on the main thread and blocks that foreign thread until the JS returns, so the
 * callback only copies the event data and schedules the emit (listeners never run while
 * cfgmgr32's thread waits). CM_Unregister_Notification waits for callbacks in progress; were it
 * called synchronously on the main thread while a callback waits to run there, both would wait
 * forever, so close() calls it through koffi's async path and unregisters the JS callback only
 * after it returned.
 */
import { EventEmitter } from 'node:events';
import koffi from 'koffi';
import createDebug from 'debug';
import {
  CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL, CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL, CM_NOTIFY_EVENT_DATA_LINK_OFFSET,
  CM_NOTIFY_FILTER_GUID_OFFSET, CM_NOTIFY_FILTER_SIZE, CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE, CR_SUCCESS,
} from '../../../native-defs/win32-api.js';
import { CM_NOTIFY_CALLBACK, cfgmgr32, type Pointer } from './win32-ffi.js';
import { configRetError, guidBytes } from './win32-discovery.js';

const debug = createDebug('usbfn:win32');

export interface WatchOptions {
  /** Keep the process alive while watching, as fs.watch does (default true). */
  persistent?: boolean;
}

export interface DeviceInterfaceWatcherEvents {
  /** A device interface of the GUID appeared: open it with its symbolic link. */
  arrival: [symbolicLink: string];
  /** A device interface of the GUID went away. */
  removal: [symbolicLink: string];
  /** The notification could not be decoded (emitted only when someone listens). */
  error: [err: Error];
}

/** Emits 'arrival' and 'removal' (each with the symbolic link) until close(). */
export class DeviceInterfaceWatcher extends EventEmitter<DeviceInterfaceWatcherEvents> {
  private readonly callback: bigint;
  private readonly handle: bigint;
  private readonly keepAlive: NodeJS.Timeout;
  private closed: Promise<void> | null = null;

  /** Registers for arrival/removal of `interfaceGuid` interfaces. Throws a UsbFnError on failure. */
  constructor(readonly interfaceGuid: string, options: WatchOptions = {}) {
    super();
    const cm = cfgmgr32();
    const filter = Buffer.alloc(CM_NOTIFY_FILTER_SIZE); // cfgmgr32 copies it during the call
    filter.writeUInt32LE(CM_NOTIFY_FILTER_SIZE, 0); // cbSize
    filter.writeUInt32LE(CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE, 8);
    Buffer.from(guidBytes(interfaceGuid)).copy(filter, CM_NOTIFY_FILTER_GUID_OFFSET);
    const onNotify = (_h: Pointer, _context: Pointer, action: number, data: Pointer, size: number) => this.onNotify(action, data, size);
    this.callback = koffi.register(onNotify, koffi.pointer(CM_NOTIFY_CALLBACK));
    const out: Pointer[] = [null];
    const cr = cm.CM_Register_Notification(filter, null, this.callback, out);
    if (cr !== CR_SUCCESS || out[0] === null) {
      koffi.unregister(this.callback);
      throw configRetError(cr, 'CM_Register_Notification');
    }
    this.handle = out[0]!;
    this.keepAlive = setInterval(() => {}, 2 ** 31 - 1);
    if (options.persistent === false) this.keepAlive.unref();
    debug('watching interfaces %s', interfaceGuid);
  }

  /** Stops the notifications; resolves once no callback can run any more. Idempotent. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      clearInterval(this.keepAlive);
      cfgmgr32().CM_Unregister_Notification.async(this.handle, (err, cr) => {
        // Still registered with cfgmgr32 on failure: keep the trampoline (a leak) rather than let
        // a later notification call into a freed, possibly reused, callback slot.
        if (err || cr !== CR_SUCCESS) debug('CM_Unregister_Notification: %s', err ?? `CONFIGRET 0x${cr.toString(16)}`);
        else koffi.unregister(this.callback);
        resolve();
      });
    });
    return this.closed;
  }

  /** Runs on the main thread while cfgmgr32's thread waits: copy, schedule, return at once. */
  private onNotify(action: number, data: Pointer, size: number): number {
    try {
      const bytes = Buffer.from(new Uint8Array(koffi.view(data!, size))); // a copy: data dies on return
      const type = action === CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL ? 'arrival'
        : action === CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL ? 'removal' : null;
      if (type === null) return 0;
      const link = bytes.subarray(CM_NOTIFY_EVENT_DATA_LINK_OFFSET).toString('utf16le').split('\0')[0]!;
      setImmediate(() => this.closed === null && this.emit(type, link));
    } catch (err) {
      setImmediate(() => (this.listenerCount('error') > 0 ? this.emit('error', err as Error) : debug('notification: %O', err)));
    }
    return 0; // ERROR_SUCCESS
  }
}

/** Watches arrival and removal of device interfaces of `interfaceGuid` (see DeviceInterfaceWatcher). */
export function watchDeviceInterfaces(interfaceGuid: string, options?: WatchOptions): DeviceInterfaceWatcher {
  return new DeviceInterfaceWatcher(interfaceGuid, options);
}
