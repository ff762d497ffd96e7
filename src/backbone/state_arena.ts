import { SpatialRewardError } from "../errors.js";

export interface StateArenaOptions {
  /** Stream slots (named, long-lived). */
  readonly maxStreams: number;
  /** Scratch slots (forks for questions); they sit after the stream slots. */
  readonly scratchSlots: number;
  /** Floats of one slot's conv state: n_layer · E · d_conv. */
  readonly convFloats: number;
  /** Floats of one slot's SSM state: n_layer · E · d_state. */
  readonly ssmFloats: number;
}

/** A run of consecutive slots: one zero-copy view of `count` states. */
export interface SlotRun {
  readonly first: number;
  readonly count: number;
}

/**
 * The recurrent states of every stream, in one buffer reserved once (vAttention's idea applied to
 * SSM state: reserve up front, hand out slots, commit physical memory on demand).
 *
 * Layout. The graphs take `conv_state` [B, L, E, d_conv] and `ssm_state` [B, L, E, d_state] as two
 * tensors, so one slot-interleaved layout ([slot][conv][ssm]) could not give a batch of slots as a
 * view of either. The single ArrayBuffer is therefore split in two batch-major regions: all slots'
 * conv states, then all slots' SSM states. Slots k..k+n-1 are then one `subarray` of each region,
 * fed to the graphs with no copy.
 *
 * Memory. The buffer is allocated zero-filled (`new ArrayBuffer`), which V8/glibc satisfy with
 * calloc → mmap for large sizes: untouched pages are never committed, so the process's RSS grows
 * by a slot's pages only when the slot is first written. `release` zero-fills the slot (the next
 * stream starts from zeros) which keeps its pages committed; a reused slot costs nothing more.
 * Streams coming and going never move or copy another slot.
 *
 * Stream slots are handed out lowest-free-first so that the live streams stay packed at the
 * front and a batch of all streams is usually one consecutive run.
 */
export class StateArena {
  readonly maxStreams: number;
  readonly scratchSlots: number;
  readonly slots: number;
  readonly convFloats: number;
  readonly ssmFloats: number;
  readonly buffer: ArrayBuffer;
  /** All slots' conv states, [slots, convFloats]. */
  readonly conv: Float32Array;
  /** All slots' SSM states, [slots, ssmFloats]. */
  readonly ssm: Float32Array;
  private readonly byName = new Map<string, number>();
  private readonly nameOf: (string | undefined)[];
  private readonly scratchUsed: boolean[];

  constructor(o: StateArenaOptions) {
    for (const [k, v, min] of [
      ["maxStreams", o.maxStreams, 1],
      ["scratchSlots", o.scratchSlots, 0],
      ["convFloats", o.convFloats, 1],
      ["ssmFloats", o.ssmFloats, 1],
    ] as const) {
      if (!Number.isInteger(v) || v < min) throw new SpatialRewardError("bad_argument", `StateArena: ${k} must be an integer >= ${min}, got ${v}`);
    }
    this.maxStreams = o.maxStreams;
    this.scratchSlots = o.scratchSlots;
    this.slots = o.maxStreams + o.scratchSlots;
    this.convFloats = o.convFloats;
    this.ssmFloats = o.ssmFloats;
    const bytes = 4 * this.slots * (o.convFloats + o.ssmFloats);
    if (bytes > 2 ** 32) throw new SpatialRewardError("bad_argument", `StateArena: ${bytes} bytes is more than this arena reserves (4 GiB)`);
    this.buffer = new ArrayBuffer(bytes);
    this.conv = new Float32Array(this.buffer, 0, this.slots * o.convFloats);
    this.ssm = new Float32Array(this.buffer, 4 * this.slots * o.convFloats, this.slots * o.ssmFloats);
    this.nameOf = new Array<string | undefined>(this.maxStreams).fill(undefined);
    this.scratchUsed = new Array<boolean>(this.scratchSlots).fill(false);
  }

  /** Bytes of one slot (conv + SSM). */
  get stateBytes(): number {
    return 4 * (this.convFloats + this.ssmFloats);
  }

  get streamCount(): number {
    return this.byName.size;
  }

  /** Hands `name` the lowest free stream slot; its state is all zeros. */
  acquire(name: string): number {
    if (this.byName.has(name)) throw new SpatialRewardError("bad_argument", `stream "${name}" already has slot ${this.byName.get(name)}`);
    const slot = this.nameOf.indexOf(undefined);
    if (slot < 0) throw new SpatialRewardError("bad_state", `state arena is full: all ${this.maxStreams} stream slots are in use`);
    this.nameOf[slot] = name;
    this.byName.set(name, slot);
    return slot;
  }

  /** The slot of a stream, or a typed error naming it. */
  slotOf(name: string): number {
    const s = this.byName.get(name);
    if (s === undefined) throw new SpatialRewardError("bad_state", `no stream "${name}" in the state arena`);
    return s;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Frees a stream or scratch slot and zeroes its state; no other slot is touched. */
  release(slot: number): void {
    this.checkSlot(slot);
    if (slot < this.maxStreams) {
      const name = this.nameOf[slot];
      if (name === undefined) throw new SpatialRewardError("bad_state", `stream slot ${slot} is not in use`);
      this.byName.delete(name);
      this.nameOf[slot] = undefined;
    } else {
      const i = slot - this.maxStreams;
      if (!this.scratchUsed[i]) throw new SpatialRewardError("bad_state", `scratch slot ${slot} is not in use`);
      this.scratchUsed[i] = false;
    }
    this.zero(slot);
  }

  /** Takes a free scratch slot (zeroed), for a fork's working copies. */
  acquireScratch(): number {
    const i = this.scratchUsed.indexOf(false);
    if (i < 0) throw new SpatialRewardError("bad_state", `state arena has no free scratch slot (${this.scratchSlots} in use)`);
    this.scratchUsed[i] = true;
    return this.maxStreams + i;
  }

  /**
   * Takes `count` consecutive free scratch slots (zeroed) and returns the first: a batch of forks
   * that is one view of the arena, fed to a graph with no gather.
   */
  acquireScratchRun(count: number): number {
    if (!Number.isInteger(count) || count < 1) throw new SpatialRewardError("bad_argument", `scratch run of ${count} slots`);
    for (let i = 0; i + count <= this.scratchSlots; i++) {
      let free = true;
      for (let k = i; k < i + count && free; k++) free = !this.scratchUsed[k];
      if (!free) continue;
      for (let k = i; k < i + count; k++) this.scratchUsed[k] = true;
      return this.maxStreams + i;
    }
    throw new SpatialRewardError("bad_state", `state arena has no ${count} consecutive free scratch slots (of ${this.scratchSlots})`);
  }

  /** A copy of one slot's state in a free scratch slot (one state copy, never a replay). */
  fork(src: number): number {
    this.checkSlot(src);
    const dst = this.acquireScratch();
    this.copy(src, dst);
    return dst;
  }

  /** Copies slot `src`'s state over slot `dst`'s; nothing else moves. */
  copy(src: number, dst: number): void {
    this.checkSlot(src);
    this.checkSlot(dst);
    if (src === dst) return;
    this.conv.copyWithin(dst * this.convFloats, src * this.convFloats, (src + 1) * this.convFloats);
    this.ssm.copyWithin(dst * this.ssmFloats, src * this.ssmFloats, (src + 1) * this.ssmFloats);
  }

  zero(slot: number): void {
    this.convView(slot).fill(0);
    this.ssmView(slot).fill(0);
  }

  /** Conv states of slots first..first+count-1, [count, L, E, d_conv], a view (no copy). */
  convView(first: number, count = 1): Float32Array {
    this.checkRun(first, count);
    return this.conv.subarray(first * this.convFloats, (first + count) * this.convFloats);
  }

  /** SSM states of slots first..first+count-1, [count, L, E, d_state], a view (no copy). */
  ssmView(first: number, count = 1): Float32Array {
    this.checkRun(first, count);
    return this.ssm.subarray(first * this.ssmFloats, (first + count) * this.ssmFloats);
  }

  private checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) {
      throw new SpatialRewardError("bad_argument", `slot ${slot} is outside the arena (0..${this.slots - 1})`);
    }
  }

  private checkRun(first: number, count: number): void {
    this.checkSlot(first);
    if (!Number.isInteger(count) || count < 1 || first + count > this.slots) {
      throw new SpatialRewardError("bad_argument", `slots ${first}..${first + count - 1} are outside the arena (0..${this.slots - 1})`);
    }
  }
}

/** Splits ascending slot numbers into runs of consecutive slots (each run is one view). */
export function consecutiveRuns(sortedSlots: readonly number[]): SlotRun[] {
  const runs: SlotRun[] = [];
  for (const s of sortedSlots) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.first + last.count === s) runs[runs.length - 1] = { first: last.first, count: last.count + 1 };
    else runs.push({ first: s, count: 1 });
  }
  return runs;
}
