import { ddsAddonPath, loadDdsBinding } from "../src/transport/dds/native_binding.js";

/**
 * CPU time of the JS thread in ms, for per-stage CPU accounting (what a camera costs, apart from
 * what the perception stage costs). Wall time would count every moment the scheduler kept the
 * thread waiting, which on a loaded host is most of it. The thread clock comes from the dds
 * addon when it is built (clock_gettime(CLOCK_THREAD_CPUTIME_ID)); elsewhere this is wall time,
 * and threadCpuClockKind() says so.
 */
let clock: (() => number) | undefined;
let kind: "thread" | "wall" = "wall";

export function threadCpuMs(): number {
  return (clock ??= resolve())();
}

/** Which clock threadCpuMs reads. */
export function threadCpuClockKind(): "thread" | "wall" {
  clock ??= resolve();
  return kind;
}

function resolve(): () => number {
  if (ddsAddonPath() !== undefined) {
    try {
      const binding = loadDdsBinding();
      if (typeof binding.threadCpuMs === "function") {
        kind = "thread";
        return () => binding.threadCpuMs();
      }
    } catch {
      // An addon that does not load: wall time below, as without it.
    }
  }
  return () => performance.now();
}
