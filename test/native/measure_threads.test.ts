import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { Perception } from "../../src/perception/perception.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import type { Scene } from "../../src/scene/scene_object.js";
import { nativeThreads } from "../../nodes/native/kernels_addon.js";
import { nativeHelperThread, nativePerceptionKernels } from "../../nodes/perception/native_perception_kernels.js";
import { RgbdSensor, teleopScenario, worldAt, type NoiseModel } from "../../sim/index.js";
import { copyFrame, withMillimetreDepth } from "../perception/sim_frame.js";
import { NATIVE_TESTS } from "./native_env.js";

/**
 * measureObjects shared with the addon's helper thread (native/src/kernels/helper_thread.cc):
 * the scenes and counters of the TypeScript reference, and of the native kernels on one thread,
 * whichever thread measured which object, and also where the helper cannot start (serial).
 */

function sceneText(s: Scene): string {
  return JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** Frames of a scripted episode with many objects (objects move, so each frame differs). */
function episodeFrames(seed: number, objects: number, frames: number, noise: NoiseModel, width = 320, height = 240): RgbdFrame[] {
  // An episode is 20 frames at least; the first `frames` are used.
  const { world, camera, episode } = teleopScenario(seed, Math.max(20, frames), { width, height }, { minObjects: objects, maxObjects: objects });
  const sensor = new RgbdSensor({ noise, seed });
  const out: RgbdFrame[] = [];
  for (let f = 0; f < frames; f++) {
    const frame = copyFrame(sensor.capture(worldAt(world, episode.poses[f]), camera, BigInt(f) * 33_333_333n).frame);
    delete frame.detections;
    out.push(frame);
  }
  return out;
}

/**
 * Every frame through `p`, one every `everyMs` (0: back to back): the scene texts expected, and at
 * the end the reference's counters.
 */
function expectSameOnAll(frames: readonly RgbdFrame[], [counters, p]: [Perception["counters"], Perception], expected: readonly string[], what: string, everyMs = 0): void {
  const t0 = performance.now();
  for (const [f, frame] of frames.entries()) {
    while (performance.now() < t0 + f * everyMs) { /* a steady rate */ }
    const scene = p.process(frame);
    expect(scene.objects.length, `${what} frame ${f}: objects seen`).toBeGreaterThan(2);
    expect(sceneText(scene), `${what} frame ${f}`).toBe(expected[f]);
  }
  expect(p.counters.snapshot(), what).toEqual(counters.snapshot());
}

describe.skipIf(!NATIVE_TESTS)("measureObjects on two threads equals the TypeScript reference and one thread", () => {
  afterAll(() => {
    nativeHelperThread("allowStarts");
  });

  it("12 objects, clean and RealSense noise, metre and millimetre depth: threads 2 = threads 1 = TypeScript", { timeout: 120_000 }, () => {
    const two = nativePerceptionKernels({ threads: 2 })!, one = nativePerceptionKernels({ threads: 1 })!;
    expect(new Perception({ kernels: two }).kernels.threads).toBe(2);
    const before = nativeHelperThread()!;
    let calls = 0;
    for (const noise of ["none", "realsense"] as const) {
      const frames = episodeFrames(23, 12, 30, noise);
      for (const [depth, fs] of [["metres", frames], ["millimetres", frames.map(withMillimetreDepth)]] as const) {
        const what = `${noise} ${depth}`;
        const ts = new Perception(), serial = new Perception({ kernels: one }), shared = new Perception({ kernels: two });
        const expected = fs.map((frame) => sceneText(ts.process(frame)));
        expectSameOnAll(fs, [ts.counters, serial], expected, what);
        // The helper expects calls that come at a steady rate (a camera's frames): every 4 ms here.
        expectSameOnAll(fs, [ts.counters, shared], expected, what, 4);
        calls += fs.length;
      }
    }
    const after = nativeHelperThread()!;
    // Where the process may use two CPUs every call was offered to the helper, and it took part in
    // some (on a loaded host it may miss some: then the caller measured every object). With one
    // CPU there is no helper: every call ran serially, with the same results.
    if (after.available) {
      expect(after.jobs - before.jobs).toBe(calls);
      expect(after.jobsHelped).toBeGreaterThan(before.jobsHelped);
    } else {
      expect(after.jobs).toBe(before.jobs);
    }
  });

  it("where the helper thread cannot be created: serial, the same scenes, no error", () => {
    nativeHelperThread("stop");
    nativeHelperThread("failStarts");
    try {
      const frames = episodeFrames(29, 10, 12, "none");
      const before = nativeHelperThread()!;
      const ts = new Perception();
      const expected = frames.map((frame) => sceneText(ts.process(frame)));
      expectSameOnAll(frames, [ts.counters, new Perception({ kernels: nativePerceptionKernels({ threads: 2 })! })], expected, "no helper", 4);
      const state = nativeHelperThread()!;
      expect(state.running).toBe(false);
      expect(state.available).toBe(false);
      expect(state.jobsHelped).toBe(before.jobsHelped);
    } finally {
      nativeHelperThread("allowStarts");
    }
    // Allowed again, the next call starts it.
    new Perception({ kernels: nativePerceptionKernels({ threads: 2 })! }).process(episodeFrames(29, 10, 1, "none")[0]);
    if (nativeHelperThread()!.available) expect(nativeHelperThread()!.running).toBe(true);
  });

  it("stopped between frames (as at an environment's cleanup): the next frame starts it again, same scenes", () => {
    const frames = episodeFrames(31, 9, 8, "realsense");
    const ts = new Perception(), two = new Perception({ kernels: nativePerceptionKernels({ threads: 2 })! });
    for (const [f, frame] of frames.entries()) {
      if (f % 3 === 0) nativeHelperThread("stop");
      expect(sceneText(two.process(frame)), `frame ${f}`).toBe(sceneText(ts.process(frame)));
    }
  });
});

describe("SPATIAL_REWARD_NATIVE_THREADS", () => {
  const saved = process.env.SPATIAL_REWARD_NATIVE_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.SPATIAL_REWARD_NATIVE_THREADS;
    else process.env.SPATIAL_REWARD_NATIVE_THREADS = saved;
    vi.restoreAllMocks();
  });

  it("2 allows the helper thread; unset, empty and 1 keep the kernels on the calling thread", () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    process.env.SPATIAL_REWARD_NATIVE_THREADS = "2";
    expect(nativeThreads()).toBe(2);
    if (NATIVE_TESTS) expect(new Perception({ kernels: nativePerceptionKernels()! }).kernels.threads).toBe(2);
    for (const v of [undefined, "", "1"]) {
      if (v === undefined) delete process.env.SPATIAL_REWARD_NATIVE_THREADS;
      else process.env.SPATIAL_REWARD_NATIVE_THREADS = v;
      expect(nativeThreads(), String(v)).toBe(1);
      if (NATIVE_TESTS) expect(new Perception({ kernels: nativePerceptionKernels()! }).kernels.threads, String(v)).toBe(1);
    }
    expect(warn).not.toHaveBeenCalled();
  });

  it("any other value: one one-line warning naming it, and the default; never a crash", () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    for (const v of ["3", "0", "two", " 2", "1.5", "-1", "2\n", "auto"]) {
      process.env.SPATIAL_REWARD_NATIVE_THREADS = v;
      expect(nativeThreads(), JSON.stringify(v)).toBe(1);
      expect(nativeThreads(), JSON.stringify(v)).toBe(1);
      if (NATIVE_TESTS) expect(() => new Perception({ kernels: nativePerceptionKernels()! }).process(episodeFrames(41, 3, 1, "none")[0])).not.toThrow();
    }
    // Once per value, each one line that names the variable and the value.
    expect(warn).toHaveBeenCalledTimes(8);
    for (const [message] of warn.mock.calls) {
      expect(String(message)).toMatch(/^spatial-reward: SPATIAL_REWARD_NATIVE_THREADS=".*" is not 1 or 2; using the default \(1\)$/);
      expect(String(message)).not.toMatch(/\n/);
    }
  });
});
