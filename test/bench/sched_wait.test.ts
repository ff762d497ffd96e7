import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { jsWaitDuring, parseSchedstat, readThreadWaits, waitSummary, WaitAccumulator, type WaitSample } from "../../bench/sched_wait.js";

describe("bench:dds run-queue waits (schedstat)", () => {
  it("parses schedstat lines and refuses malformed ones", () => {
    expect(parseSchedstat("1330409723 36999926432 600\n")).toEqual({ runNs: 1330409723, waitNs: 36999926432 });
    expect(parseSchedstat("0 3135199 1")).toEqual({ runNs: 0, waitNs: 3135199 });
    expect(parseSchedstat("")).toBeUndefined();
    expect(parseSchedstat("12")).toBeUndefined();
    expect(parseSchedstat("a b c")).toBeUndefined();
    expect(parseSchedstat("-1 5 1")).toBeUndefined();
  });

  it.runIf(existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`))("reads this process's threads' waits, the main thread's among them; a gone process is undefined", () => {
    const w = readThreadWaits(process.pid)!;
    expect(w.get(process.pid)).toBeGreaterThanOrEqual(0);
    for (const v of w.values()) expect(v).toBeGreaterThanOrEqual(0);
    expect(readThreadWaits(2 ** 22 + 12345)).toBeUndefined();
    const acc = new WaitAccumulator();
    expect(acc.sample([process.pid], () => 1)).toEqual({ t: 1, jsWaitS: 0, allWaitS: 0 });
    const next = acc.sample([process.pid], () => 2)!;
    expect(next.allWaitS).toBeGreaterThanOrEqual(next.jsWaitS);
    expect(acc.sample([process.pid, 2 ** 22 + 12345], () => 3)).toBeUndefined();
  });

  it("accumulates waits that never go down: a thread that ends takes nothing away, a new one counts from its next sample", () => {
    // Process 10 (main thread 10, helper 11), then 11 ends and 12 starts with 5 s already waited.
    const reads = [
      new Map([[10, 1], [11, 2]]),
      new Map([[10, 1.5], [11, 2.25]]),
      new Map([[10, 1.75], [12, 5]]),
      new Map([[10, 2], [12, 5.5]]),
    ];
    const acc = new WaitAccumulator();
    const got = reads.map((r, i) => acc.sample([10], () => i, () => r)!);
    expect(got.map((x) => x.jsWaitS)).toEqual([0, 0.5, 0.75, 1]);
    expect(got.map((x) => x.allWaitS)).toEqual([0, 0.75, 1, 1.75]);
    // Two processes: each one's main thread is its own pid.
    const two = new WaitAccumulator();
    const read = (pid: number) => new Map([[pid, pid === 10 ? 1 : 3], [pid + 1, 0]]);
    two.sample([10, 20], () => 0, read);
    const later = two.sample([10, 20], () => 1, (pid) => new Map([[pid, pid === 10 ? 1.5 : 3.25], [pid + 1, 0.5]]))!;
    expect(later.jsWaitS).toBeCloseTo(0.75, 12);
    expect(later.allWaitS).toBeCloseTo(1.75, 12);
    expect(read(10).size).toBe(2);
    // The sample is stamped after the threads are read (a pause in between is not counted as waiting).
    const order: string[] = [];
    new WaitAccumulator().sample([10, 20], () => (order.push("clock"), 0), (pid) => (order.push(`read ${pid}`), new Map()));
    expect(order).toEqual(["read 10", "read 20", "clock"]);
  });

  // 10 samples 100 ms apart; the JS thread waits 10 ms per interval except 80 ms in the 5th.
  const samples: WaitSample[] = [];
  let js = 0;
  let all = 0;
  for (let i = 0; i < 10; i++) {
    samples.push({ t: 100 + i / 10, jsWaitS: js, allWaitS: all });
    js += i === 4 ? 0.08 : 0.01;
    all += i === 4 ? 0.09 : 0.02;
  }

  it("summarises waits per second of wall time: mean over the window and the worst interval", () => {
    const s = waitSummary(samples, 100, 101)!;
    // 9 intervals: 8 x 10 ms + 80 ms = 160 ms over 0.9 s.
    expect(s.js_thread_ms_per_s).toBeCloseTo(177.8, 1);
    expect(s.js_thread_worst_ms_per_s).toBeCloseTo(800, 1);
    expect(s.all_threads_ms_per_s).toBeCloseTo((8 * 20 + 90) / 0.9, 0);
    expect(s.all_threads_worst_ms_per_s).toBeCloseTo(900, 1);
    // Samples outside the window are left out; fewer than two in it give null.
    expect(waitSummary(samples, 100.05, 100.35)!.js_thread_worst_ms_per_s).toBeCloseTo(100, 1);
    expect(waitSummary(samples, 100.05, 100.15)).toBeNull();
    expect(waitSummary([], 0, 1)).toBeNull();
  });

  it("attributes a frame's wait from the samples bracketing its flight", () => {
    // In flight from 100.42 to 100.55: bracketed by the samples at 100.4 and 100.6 (the 80 ms and a 10 ms interval).
    expect(jsWaitDuring(samples, 100.42, 100.55)).toBeCloseTo(90, 5);
    // Exactly on samples: just that interval.
    expect(jsWaitDuring(samples, 100.4, 100.5)).toBeCloseTo(80, 5);
    // Not covered by samples.
    expect(jsWaitDuring(samples, 99, 100.2)).toBeNaN();
    expect(jsWaitDuring(samples, 100.5, 102)).toBeNaN();
  });
});
