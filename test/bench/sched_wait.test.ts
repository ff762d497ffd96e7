import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { jsWaitDuring, parseSchedstat, readWaits, waitSummary, type WaitSample } from "../../bench/sched_wait.js";

describe("bench:dds run-queue waits (schedstat)", () => {
  it("parses schedstat lines and refuses malformed ones", () => {
    expect(parseSchedstat("1330409723 36999926432 600\n")).toEqual({ runNs: 1330409723, waitNs: 36999926432 });
    expect(parseSchedstat("0 3135199 1")).toEqual({ runNs: 0, waitNs: 3135199 });
    expect(parseSchedstat("")).toBeUndefined();
    expect(parseSchedstat("12")).toBeUndefined();
    expect(parseSchedstat("a b c")).toBeUndefined();
    expect(parseSchedstat("-1 5 1")).toBeUndefined();
  });

  it.runIf(existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`))("reads this process's waits: the main thread's within all threads'; a gone process is undefined", () => {
    const w = readWaits(process.pid)!;
    expect(w.jsWaitS).toBeGreaterThanOrEqual(0);
    expect(w.allWaitS).toBeGreaterThanOrEqual(w.jsWaitS);
    expect(readWaits(2 ** 22 + 12345)).toBeUndefined();
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
