/**
 * Device interface arrival and removal as events, through CM_Register_Notification
 * (win32-notification.ts: threads, and why close() never blocks a thread Node joins). The
 * callback only copies the event data and schedules the emit: listeners never run while
 * cfgmgr32's thread waits.
 */
import { EventEmitter } from 'node:events';
import koffi from 'koffi';
import createDebug from 'debug';
import {
  CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL, CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL, CM_NOTIFY_EVENT_DATA_LINK_OFFSET,
  CM_NOTIFY_FILTER_GUID_OFFSET, CM_NOTIFY_FILTER_SIZE, CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE,
} from '../../../native-defs/win32-api.js';
import type { Pointer } from './win32-ffi.js';
import { guidBytes } from './win32-discovery.js';
import { CmNotification } from './win32-notification.js';

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
  private readonly registration: CmNotification;
  private readonly keepAlive: NodeJS.Timeout;
  private closed: Promise<void> | null = null;

  /** Registers for arrival/removal of `interfaceGuid` interfaces. Throws a UsbFnError on failure. */
  constructor(readonly interfaceGuid: string, options: WatchOptions = {}) {
    super();
    const filter = Buffer.alloc(CM_NOTIFY_FILTER_SIZE); // cfgmgr32 copies it during the call
    filter.writeUInt32LE(CM_NOTIFY_FILTER_SIZE, 0); // cbSize
    filter.writeUInt32LE(CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE, 8);
    Buffer.from(guidBytes(interfaceGuid)).copy(filter, CM_NOTIFY_FILTER_GUID_OFFSET);
    this.registration = new CmNotification(filter, (action, data, size) => this.onNotify(action, data, size));
    this.keepAlive = setInterval(() => {}, 2 ** 31 - 1);
    if (options.persistent === false) this.keepAlive.unref();
    debug('watching interfaces %s', interfaceGuid);
  }

  /** Stops the notifications; resolves once no callback can run any more. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      clearInterval(this.keepAlive);
      this.closed = this.registration.close();
    }
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
