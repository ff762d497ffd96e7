import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { episodeFrames, nearestIndex } from "../../src/lerobot/episode_frames.js";
import { boolStats, downsampleFactor, estimateNumSamples, ImageStatsAccumulator, numericStats, sampleIndices } from "../../src/lerobot/lerobot_stats.js";

/**
 * LeRobot's episode statistics checked against numpy itself (Debian's python3-numpy for
 * /usr/bin/python3, as models/train uses): the frame sampling (np.round of np.linspace, with
 * its halves-to-even rounding), the downsampling stride, image stats over (frames, height,
 * width) per channel / 255, and numeric stats. Skipped only where numpy is missing.
 */
const PY = "/usr/bin/python3";
const numpy = existsSync(PY) && spawnSync(PY, ["-c", "import numpy"]).status === 0;

function py(code: string, input: unknown): unknown {
  const r = spawnSync(PY, ["-c", code], { input: JSON.stringify(input), encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe("LeRobot episode stats", () => {
  it("estimateNumSamples follows the figures LeRobot documents", () => {
    // compute_stats.estimate_num_samples' docstring: 1..~500 → 100 (or all when fewer), 1000 → 177, 2000 → 299, 5000 → 594, 10000 → 1000, 20000 → 1681.
    expect([1, 50, 99, 100, 500].map(estimateNumSamples)).toEqual([1, 50, 99, 100, 105]);
    expect([1000, 2000, 5000, 10_000, 20_000].map(estimateNumSamples)).toEqual([177, 299, 594, 1000, 1681]);
    expect(estimateNumSamples(10_000_000)).toBe(10_000);
  });

  it.skipIf(!numpy)("sampleIndices and downsampleFactor equal numpy's np.round(np.linspace(...)) and int(side / 150)", () => {
    const ns = [1, 2, 7, 99, 100, 101, 150, 333, 501, 999, 1000, 1234, 4097, 20_000, 123_457];
    const want = py(
      "import json,sys,numpy as np\n" +
      "ns=json.load(sys.stdin)\n" +
      "def k(n):\n  m=n if n<100 else 100\n  return max(m, min(int(n**0.75), 10000))\n" +
      "print(json.dumps([np.round(np.linspace(0, n-1, k(n))).astype(int).tolist() for n in ns]))",
      ns,
    ) as number[][];
    ns.forEach((n, i) => expect(sampleIndices(n), `n = ${n}`).toEqual(want[i]));
    expect([[640, 480], [480, 640], [299, 200], [300, 10], [1920, 1080], [64, 48]].map(([w, h]) => downsampleFactor(w, h))).toEqual([4, 4, 1, 2, 12, 1]);
  });

  it.skipIf(!numpy)("image and numeric stats equal numpy's over the sampled, downsampled frames", () => {
    const frames = 137, width = 320, height = 30;
    const rgb: number[][] = [];
    let s = 12345;
    const acc = new ImageStatsAccumulator(frames, width, height);
    for (let f = 0; f < frames; f++) {
      const img = new Uint8Array(width * height * 3);
      for (let i = 0; i < img.length; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        img[i] = (s >>> 16) & 0xff;
      }
      acc.add(f, img);
      rgb.push(Array.from(img));
    }
    const got = acc.stats();
    const want = py(
      "import json,sys,numpy as np\n" +
      "d=json.load(sys.stdin)\n" +
      "a=np.array(d['rgb'],dtype=np.uint8).reshape(d['frames'],d['height'],d['width'],3).transpose(0,3,1,2)\n" +
      "n=len(a); m=n if n<100 else 100; k=max(m,min(int(n**0.75),10000))\n" +
      "idx=np.round(np.linspace(0,n-1,k)).astype(int)\n" +
      "f=int(d['width']/150) if d['width']>d['height'] else int(d['height']/150)\n" +
      "x=a[idx][:,:,::f,::f] if max(d['width'],d['height'])>=300 else a[idx]\n" +
      "r={s:(getattr(np,s)(x,axis=(0,2,3),keepdims=True)/255.0)[0].tolist() for s in ['min','max','mean','std']}\n" +
      "r['count']=[len(x)]\n" +
      "print(json.dumps(r))",
      { rgb: rgb.flat(), frames, width, height },
    ) as Record<string, number[][][]>;
    expect(got.count).toEqual(want.count);
    expect(got.min).toEqual(want.min);
    expect(got.max).toEqual(want.max);
    for (const k of ["mean", "std"] as const) {
      for (let c = 0; c < 3; c++) expect(Math.abs((got[k][c] as number[][])[0][0] - want[k][c][0][0])).toBeLessThan(1e-12);
    }
    const values = Float32Array.from({ length: 50 * 3 }, (_, i) => Math.sin(i) * 10);
    const num = numericStats(values, 50, 3, true);
    const ref = py(
      "import json,sys,numpy as np\n" +
      "a=np.array(json.load(sys.stdin),dtype=np.float32).reshape(50,3)\n" +
      "print(json.dumps({s:getattr(np,s)(a,axis=0).tolist() for s in ['min','max','mean','std']}))",
      Array.from(values),
    ) as Record<string, number[]>;
    expect(num.min).toEqual(ref.min);
    expect(num.max).toEqual(ref.max);
    for (let c = 0; c < 3; c++) {
      // numpy sums float32 in float32: agreement to float32 precision.
      expect(Math.abs((num.mean[c] as number) - ref.mean[c])).toBeLessThan(1e-5);
      expect(Math.abs((num.std[c] as number) - ref.std[c])).toBeLessThan(1e-5);
    }
  });

  it("bool stats are numpy's (min/max booleans, mean the fraction); bad input is refused", () => {
    expect(boolStats([0, 0, 1, 0])).toEqual({ min: [false], max: [true], mean: [0.25], std: [Math.sqrt(0.25 * 0.75)], count: [4] });
    expect(() => numericStats([1, 2, 3], 2, 2, false)).toThrow(/need 4 values/);
    expect(() => boolStats([])).toThrow();
    const acc = new ImageStatsAccumulator(3, 2, 2);
    acc.add(0, new Uint8Array(12));
    expect(() => acc.stats()).toThrow(/1 of 3 sampled frames/);
    expect(() => acc.add(1, new Uint8Array(5))).toThrow(/bad|needs/);
  });
});

describe("rows of an episode", () => {
  const ms = (x: number) => BigInt(Math.round(x * 1e6));
  it("samples the fps grid from the camera, mocap nearest by exposure stamp, next-state actions, rewards by stamp", () => {
    const cam = BigInt64Array.from([0, 33, 67, 134, 167].map(ms)); // 100 ms missing
    const camera = { logTimes: cam, stamps: cam.map((t) => t - 4_000_000n) };
    const poseTimes = BigInt64Array.from([0, 10, 20, 30, 40, 60, 70, 90, 130, 140, 165, 170].map(ms));
    const values = new Float64Array(poseTimes.length * 7);
    poseTimes.forEach((t, i) => values.set([Number(t) / 1e9, i, 0, 0, 0, 0, 1], i * 7));
    const rewards = { stamps: BigInt64Array.from([ms(63), ms(-4)]), reward: Float64Array.from([-0.1, -0.3]), success: Uint8Array.from([1, 0]) };
    const f = episodeFrames(camera, { stamps: poseTimes, values }, rewards, 30);
    expect(f.length).toBe(6);
    // Slot 3 (100 ms) is nearest frame 2 (67 ms, 33 ms away; 134 ms is 34 away): shown twice.
    expect(Array.from(f.cameraIndex)).toEqual([0, 1, 2, 2, 3, 4]);
    expect(f.report).toMatchObject({ camera_frames: 5, repeated_frames: 1, unused_frames: 0, rows_without_reward: 0 });
    // Mocap sample nearest the exposure (stamp, 4 ms before the log time) of each row's camera frame:
    // −4→0 (idx 0), 29→30 (3), 63→60 (5; by log time 67 it would be 70, idx 6), 130→130 (8), 163→165 (10).
    expect(Array.from({ length: 6 }, (_, k) => f.state[k * 7 + 1])).toEqual([0, 3, 5, 5, 8, 10]);
    expect(Array.from({ length: 6 }, (_, k) => f.action[k * 7 + 1])).toEqual([3, 5, 5, 8, 10, 10]);
    // Rewards by stamp: frame 0 (stamp −4 ms) has the −4 ms reward, later frames the 63 ms one.
    expect(Array.from(f.reward)).toEqual([-0.3, -0.3, -0.1, -0.1, -0.1, -0.1].map(Math.fround));
    expect(Array.from(f.success)).toEqual([0, 0, 1, 1, 1, 1]);
    expect(Array.from(f.done)).toEqual([0, 0, 0, 0, 0, 1]);
    expect(f.report.mocap_gap_ms_max).toBeCloseTo(4, 6);
    expect(nearestIndex(BigInt64Array.from([10n, 20n]), 15n)).toBe(0);
    expect(() => episodeFrames({ logTimes: new BigInt64Array(0), stamps: new BigInt64Array(0) }, { stamps: poseTimes, values }, rewards, 30)).toThrow(/no camera frame/);
    expect(() => episodeFrames(camera, { stamps: new BigInt64Array(0), values: new Float64Array(0) }, rewards, 30)).toThrow(/no usable mocap/);
    expect(() => episodeFrames(camera, { stamps: poseTimes, values }, rewards, 0)).toThrow(/fps/);
  });
});
