/**
 * The host side of the contract suite in the end-to-end VM: the kernel's host stack through
 * libusb (test/e2e/host-peer.c), shaped like the part of the emulator's SimulatedHost the suites
 * use: enumerate, bulkIn, bulkOut, controlTransfer, clearHalt, isHalted (the last two return
 * promises: the suites await them). Endpoints are named by the addresses the function declares
 * (also in the wIndex of an endpoint-recipient control request); they are mapped to the ones
 * the UDC chose (dummy_hcd turns OUT 0x01 into 0x02).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { SetupPacket } from '../../native-defs/codec.js';
import { ErrorCodes, UsbFnError } from '../../lib/errors.js';

type Reply = { ok: true; value: string } | { ok: false; status: string };
const hex = (data: Uint8Array | undefined) => (data && data.length > 0 ? Buffer.from(data).toString('hex') : '-');
const bytes = (value: string) => (value === '-' ? new Uint8Array(0) : new Uint8Array(Buffer.from(value, 'hex')));

export class VmHost {
  private peer: ChildProcessWithoutNullStreams | null = null;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private nextId = 1;
  private endpoints = { in: 0, out: 0 };

  /**
   * @param peerPath the built host-peer; @param speed the speed dummy_hcd was loaded for;
   * @param declared the endpoint addresses the function declares
   */
  constructor(private readonly peerPath: string, private readonly speed: string, private readonly declared: readonly number[] = [0x81, 0x01]) {}

  /** The UDC is bound already (driver.activate()): waits for the kernel to enumerate, opens the device. */
  async enumerate(options: { speed?: string } = {}): Promise<void> {
    if (options.speed && options.speed !== this.speed) throw new Error(`the VM's host port runs at ${this.speed} speed, not ${options.speed}`);
    const peer = spawn(this.peerPath, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.peer = peer;
    peer.stderr.resume();
    const lines = createInterface({ input: peer.stdout });
    const ready = new Promise<string>((resolve, reject) => {
      peer.once('exit', (code) => reject(new Error(`host-peer exited (${code}) before the device was open`)));
      lines.once('line', resolve);
    });
    const first = await ready;
    const [word, epIn, epOut] = first.split(' ');
    if (word !== 'ready') throw new Error(`host-peer: ${first}`);
    this.endpoints = { in: Number(epIn), out: Number(epOut) };
    lines.on('line', (line) => this.settle(line));
  }

  async bulkIn(endpointAddress: number, length: number): Promise<Uint8Array> {
    return bytes(await this.call('bulkIn', `in ${this.address(endpointAddress)} ${length}`));
  }

  async bulkOut(endpointAddress: number, data: Uint8Array, options: { zlp?: boolean } = {}): Promise<void> {
    await this.call('bulkOut', `out ${this.address(endpointAddress)} ${options.zlp ? 1 : 0} ${hex(data)}`);
  }

  async controlTransfer(setup: SetupPacket, data?: Uint8Array, options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    const { bmRequestType, bRequest, wValue, wLength } = setup;
    const namesDeclaredEndpoint = (bmRequestType & 0x1f) === 2 && this.declared.includes(setup.wIndex);
    const wIndex = namesDeclaredEndpoint ? this.address(setup.wIndex) : setup.wIndex;
    const reply = await this.call('controlTransfer', `ctrl ${bmRequestType} ${bRequest} ${wValue} ${wIndex} ${wLength} ${hex(data)} ${options.timeoutMs ?? 20000}`);
    return bmRequestType & 0x80 ? bytes(reply) : new Uint8Array(0);
  }

  async clearHalt(endpointAddress: number): Promise<void> {
    await this.call('clearHalt', `clear ${this.address(endpointAddress)}`);
  }

  /** GET_STATUS of the endpoint: its halt bit as the UDC has it. */
  async isHalted(endpointAddress: number): Promise<boolean> {
    return (await this.call('isHalted', `status ${this.address(endpointAddress)}`)) === '1';
  }

  /** Ends the peer: the kernel cancels whatever it still had pending. */
  close(): void {
    this.peer?.kill('SIGKILL');
    this.peer = null;
    for (const wake of this.waiting.values()) wake({ ok: false, status: 'NO_DEVICE' });
    this.waiting.clear();
  }

  private address(declared: number): number {
    return declared & 0x80 ? this.endpoints.in : this.endpoints.out;
  }

  private async call(operation: string, request: string): Promise<string> {
    if (!this.peer) throw new UsbFnError(ErrorCodes.INVALID_STATE, `${operation}: the host has not enumerated the device`);
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve) => this.waiting.set(id, resolve));
    this.peer.stdin.write(`${id} ${request}\n`);
    const r = await reply;
    if (r.ok) return r.value;
    const code = r.status === 'STALL' ? ErrorCodes.STALLED : r.status === 'TIMEOUT' ? ErrorCodes.TIMEOUT : ErrorCodes.DRIVER;
    throw new UsbFnError(code, `${operation}: the host's transfer ended ${r.status}`, { operation });
  }

  private settle(line: string): void {
    const [id, outcome, value = '-'] = line.split(' ');
    const wake = this.waiting.get(Number(id));
    if (!wake) return;
    this.waiting.delete(Number(id));
    wake(outcome === 'ok' ? { ok: true, value } : { ok: false, status: value });
  }
}
