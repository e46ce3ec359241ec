/**
 * OVERLAPPED structures in native memory, for one device. The kernel writes Internal and
 * InternalHigh of an OVERLAPPED whenever the request completes, from any thread, so it must
 * neither move nor be freed before its completion has been harvested. V8 may move small typed
 * arrays that live on its heap; memory from koffi.alloc (calloc) never moves. Slabs of OVERLAPPEDs
 * are allocated once and reused: a slot is acquired per request and released when its completion
 * is harvested; the slabs themselves are freed exactly once, by free(), which the device calls
 * only when nothing is pending. Reusing slots costs nothing per request, where an alloc/free pair
 * would be two FFI calls.
 */
import koffi from 'koffi';
import { STATUS_PENDING } from '../../../native-defs/win32-api.js';
import { OVERLAPPED_LAYOUT, readPointer } from './win32-ffi.js';

const SLAB_SLOTS = 64;

interface Slab {
  address: bigint;
  base: number; // the address as a Number, for arithmetic on harvested pointers
  view: DataView;
}

export class OverlappedPool {
  private readonly slabs: Slab[] = [];
  private readonly freeSlots: number[] = [];
  private readonly addresses: bigint[] = []; // per slot, computed once: no BigInt math per request
  private inUse = 0;
  private freed = false;

  /** Slots currently acquired (requests whose completion has not been harvested). */
  get size(): number {
    return this.inUse;
  }

  /**
   * A zeroed OVERLAPPED slot whose Internal reads STATUS_PENDING (as DeviceIoControl leaves it),
   * adding a slab when every slot is taken.
   */
  acquire(): number {
    if (this.freed) throw new Error('OverlappedPool used after free()');
    if (this.freeSlots.length === 0) this.grow();
    const slot = this.freeSlots.pop()!;
    const view = this.viewOf(slot);
    const offset = offsetOf(slot);
    for (let i = 0; i < OVERLAPPED_LAYOUT.size; i += 4) view.setUint32(offset + i, 0, true);
    view.setUint32(offset + OVERLAPPED_LAYOUT.internal, STATUS_PENDING, true);
    this.inUse++;
    return slot;
  }

  /** Returns a slot whose completion has been harvested (or that never reached the kernel). */
  release(slot: number): void {
    this.freeSlots.push(slot);
    this.inUse--;
  }

  /** The OVERLAPPED's address, as DeviceIoControl and CancelIoEx take it. */
  address(slot: number): bigint {
    return this.addresses[slot]!;
  }

  /** The slot an OVERLAPPED address belongs to, or -1 when it is none of this pool's. */
  slotOf(address: number): number {
    for (let s = 0; s < this.slabs.length; s++) {
      const delta = address - this.slabs[s]!.base;
      if (delta >= 0 && delta < SLAB_SLOTS * OVERLAPPED_LAYOUT.size && delta % OVERLAPPED_LAYOUT.size === 0) {
        return s * SLAB_SLOTS + delta / OVERLAPPED_LAYOUT.size;
      }
    }
    return -1;
  }

  /** OVERLAPPED.Internal: the request's NTSTATUS (STATUS_PENDING while in flight), unsigned 32-bit. */
  status(slot: number): number {
    return this.viewOf(slot).getUint32(offsetOf(slot) + OVERLAPPED_LAYOUT.internal, true);
  }

  /** OVERLAPPED.InternalHigh: the bytes transferred. */
  bytes(slot: number): number {
    return readPointer(this.viewOf(slot), offsetOf(slot) + OVERLAPPED_LAYOUT.internalHigh);
  }

  /** Frees every slab, exactly once. Only call when no slot is acquired (nothing in the kernel). */
  free(): void {
    if (this.freed) return;
    if (this.inUse !== 0) throw new Error(`OverlappedPool.free() with ${this.inUse} OVERLAPPEDs still in flight`);
    this.freed = true;
    for (const slab of this.slabs) koffi.free(slab.address);
    this.slabs.length = 0;
    this.freeSlots.length = 0;
    this.addresses.length = 0;
  }

  private grow(): void {
    const bytes = SLAB_SLOTS * OVERLAPPED_LAYOUT.size;
    const address = koffi.alloc('uint8_t', bytes) as bigint;
    const first = this.slabs.length * SLAB_SLOTS;
    this.slabs.push({ address, base: Number(address), view: new DataView(koffi.view(address, bytes)) });
    for (let i = 0; i < SLAB_SLOTS; i++) this.addresses.push(address + BigInt(i * OVERLAPPED_LAYOUT.size));
    for (let i = SLAB_SLOTS - 1; i >= 0; i--) this.freeSlots.push(first + i);
  }

  /** The DataView over the slot's slab (status and bytes are read per completion: no object per call). */
  private viewOf(slot: number): DataView {
    return this.slabs[(slot / SLAB_SLOTS) | 0]!.view;
  }
}

/** The slot's byte offset within its slab. */
function offsetOf(slot: number): number {
  return (slot % SLAB_SLOTS) * OVERLAPPED_LAYOUT.size;
}
