/**
 * BusLink: the device's bus state as the streams and the control channel need it. The device
 * facade feeds it every BusEvent in order (`handle`); BulkPipes listen to it to stop on a reset,
 * unconfigure or detach and to resume on the next `configured`.
 */
import { EventEmitter } from 'node:events';
import type { BusEvent, BusSpeed, ClassInfo, PipeInfo } from './driver/driver.js';
import { ErrorCodes, UsbFnError, canceledError } from './errors.js';

export type DeviceState = 'detached' | 'attached' | 'default' | 'configured' | 'suspended';
export type DeconfigureReason = 'reset' | 'unconfigured' | 'detach';

/**
 * Events: 'configured' (configurationValue), 'deconfigured' (reason) when data transfers stop
 * being allowed, 'state' (state, previous), 'closed'.
 */
export class BusLink extends EventEmitter {
  state: DeviceState = 'detached';
  speed: BusSpeed | null = null;
  configurationValue = 0;
  closed = false;
  private beforeSuspend: DeviceState = 'detached';

  /** @param classInfo the pipes per speed, for `pipe()` lookups at the current speed */
  constructor(readonly classInfo: ClassInfo) {
    super();
  }

  /** Data transfers are allowed: configured, or suspended while configured (transfers then just wait). */
  get configured(): boolean {
    return this.state === 'configured' || (this.state === 'suspended' && this.beforeSuspend === 'configured');
  }

  /**
   * The pipes of the current speed (high speed's before the first reset says otherwise). Low
   * speed has no descriptors of its own: the bus uses the full-speed ones, packet sizes included.
   */
  get pipes(): PipeInfo[] {
    const speed = this.speed === null ? 'high' : this.speed === 'low' ? 'full' : this.speed;
    return this.classInfo[speed].pipes;
  }

  /** The pipe with this endpoint address at the current speed, or undefined. */
  pipe(endpointAddress: number): PipeInfo | undefined {
    return this.pipes.find((p) => p.endpointAddress === endpointAddress);
  }

  /** Feeds one bus event, in driver order. Called by the device facade only. */
  handle(event: BusEvent): void {
    switch (event.type) {
      case 'attach':
        return this.setState('attached');
      case 'reset':
        this.speed = typeof event.speed === 'string' ? event.speed : this.speed;
        return this.deconfigure('reset', 'default');
      case 'configured':
        if (event.configurationValue === 0) return this.deconfigure('unconfigured', 'default');
        this.configurationValue = event.configurationValue;
        this.setState('configured');
        this.emit('configured', event.configurationValue);
        return;
      case 'unconfigured':
        return this.deconfigure('unconfigured', 'default');
      case 'suspend':
        if (this.state !== 'suspended') this.beforeSuspend = this.state;
        return this.setState('suspended');
      case 'resume':
        if (this.state === 'suspended') this.setState(this.beforeSuspend);
        return;
      case 'detach':
        return this.deconfigure('detach', 'detached');
      default:
        return;
    }
  }

  /** Resolves when data transfers are allowed; rejects CLOSED if the link closes first, CANCELED on abort. */
  async whenConfigured(signal?: AbortSignal): Promise<void> {
    while (!this.configured) {
      if (this.closed) throw new UsbFnError(ErrorCodes.CLOSED, 'the device is closed');
      if (signal?.aborted) throw canceledError('waiting for configuration', signal.reason);
      await this.nextChange(signal);
    }
  }

  /** Waits for 'configured' or 'closed' (or the abort), leaving no listener behind. */
  private nextChange(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.off('configured', done);
        this.off('closed', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.on('configured', done);
      this.on('closed', done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Marks the link closed; waiters reject with CLOSED. Called by the device facade. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('closed');
  }

  private deconfigure(reason: DeconfigureReason, next: DeviceState): void {
    const was = this.configured;
    this.configurationValue = 0;
    this.setState(next);
    if (was) this.emit('deconfigured', reason);
    if (reason === 'detach') this.speed = null;
  }

  private setState(next: DeviceState): void {
    const previous = this.state;
    if (previous === next) return;
    this.state = next;
    this.emit('state', next, previous);
  }
}
