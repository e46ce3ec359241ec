/**
 * Ring: a first-in first-out queue of at most `capacity` items in one fixed array. The reader's
 * issued reads go through it at every transfer; an Array used with push/shift instead trims and
 * regrows its backing store, which is an allocation every few transfers.
 */
export class Ring<T> {
  private readonly items: Array<T | undefined>;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity).fill(undefined);
  }

  get length(): number {
    return this.count;
  }

  /** Appends `item`; throws RangeError when full (a bug: callers bound what they queue). */
  push(item: T): void {
    if (this.count === this.capacity) throw new RangeError('Ring is full');
    this.items[(this.head + this.count++) % this.capacity] = item;
  }

  /** The oldest item, or undefined when empty. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const all: T[] = [];
    while (this.count > 0) all.push(this.shift()!);
    return all;
  }
}
