import { closeSync, openSync, readFileSync, readSync } from "node:fs";

/**
 * Resident pages of this process's own memory, by address (Linux: /proc/self/maps, pagemap and
 * mem). Whole-process RSS mixes a stream's memory with every allocator's churn; counting the
 * present pages of the exact address range a buffer occupies does not. The kernel merges
 * neighbouring anonymous mappings into one VMA, so a buffer's range is found by its content
 * (`findBytes`, `findPageMarkers`), not by a mapping's size.
 */

export const PAGE = 4096;

export interface Vma {
  readonly start: number;
  readonly end: number;
  readonly perms: string;
  readonly name: string;
}

/** Private writable anonymous mappings (where malloc, mmap'd chunks and V8's heaps live). */
export function anonymousWritable(): Vma[] {
  const out: Vma[] = [];
  for (const line of readFileSync("/proc/self/maps", "utf8").split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (!m || !m[3].startsWith("rw") || m[3][3] !== "p" || m[4] !== "0") continue;
    const name = m[5];
    if (name !== "" && name !== "[heap]" && !name.startsWith("[anon")) continue;
    // Addresses of user space fit in 47 bits: exact as doubles.
    out.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], name });
  }
  return out;
}

export class ProcessPages {
  private readonly pagemap = openSync("/proc/self/pagemap", "r");
  private readonly mem = openSync("/proc/self/mem", "r");
  private entries = Buffer.alloc(8 * 8192);

  close(): void {
    closeSync(this.pagemap);
    closeSync(this.mem);
  }

  /** Present flags of the pages covering [start, end): one byte (0/1) per page. */
  present(start: number, end: number): Uint8Array {
    const first = Math.floor(start / PAGE);
    const count = Math.ceil(end / PAGE) - first;
    const out = new Uint8Array(count);
    for (let done = 0; done < count; ) {
      const n = Math.min(count - done, this.entries.length / 8);
      const got = readSync(this.pagemap, this.entries, 0, 8 * n, 8 * (first + done));
      // Bit 63 of each little-endian entry: page present in RAM (there is no swap here; bit 62 would be swapped).
      for (let i = 0; i < got / 8; i++) out[done + i] = this.entries[8 * i + 7] >> 7;
      if (got < 8 * n) break;
      done += n;
    }
    return out;
  }

  /** Bytes of resident pages touching [start, end) (whole pages: a shared edge page counts for both neighbours). */
  residentBytes(start: number, end: number): number {
    let n = 0;
    for (const p of this.present(start, end)) n += p;
    return n * PAGE;
  }

  /**
   * Bytes at `addr` into `into`; 0 where the kernel refuses the read (EIO: a mapping
   * /proc/self/mem cannot read, e.g. a guard page). A failing window is retried page by page
   * and unreadable pages come back zeroed.
   */
  read(addr: number, into: Buffer, length = into.length): number {
    try {
      return readSync(this.mem, into, 0, length, addr);
    } catch {
      if (length <= PAGE) return 0;
      into.fill(0, 0, length);
      for (let off = 0; off < length; off += PAGE) {
        try {
          readSync(this.mem, into, off, Math.min(PAGE, length - off), addr + off);
        } catch {
          // left zeroed
        }
      }
      return length;
    }
  }

  /**
   * Addresses in resident pages of `vmas` where `needle` starts, scanning 1 MiB windows (a
   * needle split across windows is missed; needles here are short next to a window).
   */
  findBytes(vmas: readonly Vma[], needle: Uint8Array, limit = 64): number[] {
    const hits: number[] = [];
    const win = Buffer.alloc(1 << 20);
    for (const v of vmas) {
      const present = this.present(v.start, v.end);
      for (let p = 0; p < present.length && hits.length < limit; ) {
        if (!present[p]) {
          p++;
          continue;
        }
        let q = p;
        while (q < present.length && present[q] && (q - p) * PAGE < win.length) q++;
        const addr = v.start + p * PAGE;
        const got = this.read(addr, win, (q - p) * PAGE);
        for (let at = win.indexOf(needle, 0); at >= 0 && at + needle.length <= got && hits.length < limit; at = win.indexOf(needle, at + 1)) hits.push(addr + at);
        p = q;
      }
    }
    return hits;
  }

  /**
   * For each 8-byte marker wanted (a bigint → its key) whose high 32 bits are `magic`: the
   * address where it sits, at any 16-byte-aligned address of a resident page (malloc's alignment:
   * a buffer may be an mmap'd chunk of its own or a chunk of a heap). Scans 1 MiB windows.
   */
  findMarkers<T>(vmas: readonly Vma[], wanted: ReadonlyMap<bigint, T>, magic: number): Map<T, number[]> {
    const found = new Map<T, number[]>();
    const win = Buffer.alloc(1 << 20);
    const u32 = new Uint32Array(win.buffer, win.byteOffset, win.length / 4);
    for (const v of vmas) {
      const present = this.present(v.start, v.end);
      for (let p = 0; p < present.length; ) {
        if (!present[p]) {
          p++;
          continue;
        }
        let q = p;
        while (q < present.length && present[q] && (q - p) * PAGE < win.length) q++;
        const addr = v.start + p * PAGE;
        const got = this.read(addr, win, (q - p) * PAGE);
        for (let i = 1; i < got / 4; i += 4) {
          if (u32[i] !== magic) continue;
          const key = wanted.get((BigInt(magic) << 32n) | BigInt(u32[i - 1]));
          if (key === undefined) continue;
          const list = found.get(key);
          if (list) list.push(addr + 4 * (i - 1));
          else found.set(key, [addr + 4 * (i - 1)]);
        }
        p = q;
      }
    }
    return found;
  }

  /** Bytes of the resident pages touching any of the ranges, each page once (neighbouring buffers share edge pages). */
  residentBytesOfRanges(ranges: readonly (readonly [number, number])[]): number {
    const pagesSeen = new Set<number>();
    for (const [start, end] of ranges) {
      const first = Math.floor(start / PAGE);
      const present = this.present(start, end);
      for (let i = 0; i < present.length; i++) if (present[i]) pagesSeen.add(first + i);
    }
    return pagesSeen.size * PAGE;
  }
}
