/**
 * Reusable payload buffers for one channel. A WebSocket keeps a reference to what it was given
 * until the bytes reach the kernel, so an encoded frame's buffer may be written again only after
 * every client's write of it has completed: each buffer carries a count of writes in flight.
 * Steady state at a fixed frame size allocates nothing; the pool never holds more than `limit`
 * buffers (a client that falls behind is dropped before it pins more, see client_socket.ts).
 */

interface Slot {
  buffer: ArrayBuffer;
  /** Writes in flight that still read this buffer. */
  pinned: number;
}

/** A buffer lent for one message: write into it, then retain it once per socket write. */
export interface Lease {
  readonly buffer: ArrayBuffer;
  /** Records that the encoder ended up writing into another buffer (it grew): the slot keeps that one. */
  adopt(buffer: ArrayBuffer): void;
}

export class PayloadPool {
  private readonly slots: Slot[] = [];
  private readonly bySlotBuffer = new Map<ArrayBuffer, Slot>();
  /** Bytes held by the pool's buffers. */
  bytes = 0;

  constructor(readonly limit = 16) {}

  /**
   * A free buffer of at least `size` bytes (a free one too small is replaced), or null when all
   * `limit` buffers are still being written to slow sockets.
   */
  acquire(size: number): Lease | null {
    let slot: Slot | undefined;
    for (const s of this.slots) {
      if (s.pinned !== 0) continue;
      if (s.buffer.byteLength >= size) {
        slot = s;
        break;
      }
      slot ??= s;
    }
    if (slot === undefined) {
      if (this.slots.length >= this.limit) return null;
      slot = { buffer: new ArrayBuffer(0), pinned: 0 };
      this.slots.push(slot);
    }
    if (slot.buffer.byteLength < size) this.replace(slot, new ArrayBuffer(Math.ceil(size * 1.25)));
    const s = slot;
    return {
      buffer: s.buffer,
      adopt: (buffer: ArrayBuffer) => {
        if (buffer !== s.buffer) this.replace(s, buffer);
      },
    };
  }

  /**
   * Pins the buffer under `view` for one write; the returned function unpins it (call it once,
   * when the write completed or failed). Null for a view of a buffer the pool does not own.
   */
  retain(view: ArrayBufferView): (() => void) | null {
    const slot = this.bySlotBuffer.get(view.buffer as ArrayBuffer);
    if (slot === undefined) return null;
    slot.pinned++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      slot.pinned--;
    };
  }

  /** Writes in flight across all buffers. */
  pinned(): number {
    let n = 0;
    for (const s of this.slots) n += s.pinned;
    return n;
  }

  get size(): number {
    return this.slots.length;
  }

  private replace(slot: Slot, buffer: ArrayBuffer): void {
    this.bySlotBuffer.delete(slot.buffer);
    this.bytes += buffer.byteLength - slot.buffer.byteLength;
    slot.buffer = buffer;
    this.bySlotBuffer.set(buffer, slot);
  }
}
