/**
 * How long a process's threads waited for a CPU (run-queue delay), from Linux's
 * /proc/<pid>/task/<tid>/schedstat: "<ns on a CPU> <ns runnable but waiting> <timeslices>".
 * bench:dds samples it beside CPU time so a latency spike can be told apart: a node whose JS
 * thread sat on the run queue for most of a second (other processes of higher priority on every
 * core) delays every frame of that second, whatever its own code costs.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Nanoseconds on a CPU and waiting for one; undefined for a malformed line. */
export function parseSchedstat(text: string): { runNs: number; waitNs: number } | undefined {
  const f = text.trim().split(/\s+/);
  if (f.length < 2) return undefined;
  const runNs = Number(f[0]);
  const waitNs = Number(f[1]);
  return Number.isFinite(runNs) && Number.isFinite(waitNs) && runNs >= 0 && waitNs >= 0 ? { runNs, waitNs } : undefined;
}

/** Seconds a process's main (JS) thread and all its threads together waited for a CPU so far. */
export interface WaitSample {
  /** Wall clock, seconds. */
  t: number;
  jsWaitS: number;
  allWaitS: number;
}

/** Each thread's run-queue wait so far (seconds) by thread id; undefined if the process is gone. */
export function readThreadWaits(pid: number): Map<number, number> | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  const out = new Map<number, number>();
  for (const tid of tids) {
    let s: ReturnType<typeof parseSchedstat>;
    try {
      s = parseSchedstat(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8"));
    } catch {
      continue; // the thread ended meanwhile
    }
    if (s) out.set(Number(tid), s.waitNs / 1e9);
  }
  return out;
}

/**
 * Cumulative waits of processes' threads that never go down: a thread's wait counts from the
 * sample after it was first seen, and a thread that ended (or one sample missed) takes nothing
 * away, so each interval is the sum of the waits that grew in it. The main thread's id is its
 * process id (the JS thread of a Node process).
 */
export class WaitAccumulator {
  private readonly last = new Map<string, number>();
  private js = 0;
  private all = 0;

  /**
   * One sample over `pids`, stamped `now()` (seconds) once the threads are read, so a pause of
   * this (sampling) process between reading the clock and the threads is not counted as the
   * threads waiting faster than time passes; undefined if a process is gone.
   */
  sample(pids: readonly number[], now: () => number, read: (pid: number) => Map<number, number> | undefined = readThreadWaits): WaitSample | undefined {
    const per = pids.map(read);
    if (per.some((x) => x === undefined)) return undefined;
    const t = now();
    per.forEach((threads, i) => {
      for (const [tid, wait] of threads!) {
        const key = `${pids[i]}/${tid}`;
        const before = this.last.get(key);
        this.last.set(key, wait);
        if (before === undefined || wait < before) continue;
        this.all += wait - before;
        if (tid === pids[i]) this.js += wait - before;
      }
    });
    return { t, jsWaitS: this.js, allWaitS: this.all };
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

/**
 * Run-queue waits over `[from, to]` (seconds) from cumulative samples, in ms per second of wall
 * time: the mean, and the worst interval between consecutive samples. null with fewer than two
 * samples in the window.
 */
export function waitSummary(samples: readonly WaitSample[], from: number, to: number) {
  const w = samples.filter((s) => s.t >= from && s.t <= to);
  if (w.length < 2) return null;
  const span = w[w.length - 1].t - w[0].t;
  let worstJs = 0;
  let worstAll = 0;
  for (let i = 1; i < w.length; i++) {
    const dt = w[i].t - w[i - 1].t;
    if (!(dt > 0)) continue;
    worstJs = Math.max(worstJs, (1000 * (w[i].jsWaitS - w[i - 1].jsWaitS)) / dt);
    worstAll = Math.max(worstAll, (1000 * (w[i].allWaitS - w[i - 1].allWaitS)) / dt);
  }
  return {
    js_thread_ms_per_s: round(span > 0 ? (1000 * (w[w.length - 1].jsWaitS - w[0].jsWaitS)) / span : NaN),
    js_thread_worst_ms_per_s: round(worstJs),
    all_threads_ms_per_s: round(span > 0 ? (1000 * (w[w.length - 1].allWaitS - w[0].allWaitS)) / span : NaN),
    all_threads_worst_ms_per_s: round(worstAll),
  };
}

/**
 * How long the JS thread waited for a CPU while one frame was in flight (`sent` to `done`,
 * seconds), in ms, from the samples that bracket that span (so up to one sample interval more on
 * each side); NaN when the samples do not cover it.
 */
export function jsWaitDuring(samples: readonly WaitSample[], sent: number, done: number): number {
  let before: WaitSample | undefined;
  let after: WaitSample | undefined;
  for (const s of samples) {
    if (s.t <= sent) before = s;
    if (s.t >= done && after === undefined) after = s;
  }
  return before && after ? round(1000 * (after.jsWaitS - before.jsWaitS)) : NaN;
}
