import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseRewardSpec } from "../../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../../src/reward/reward_tracker.js";
import { RgbdSensor, teleopScenario, worldAt, type NoiseModel } from "../../sim/index.js";
import { dumpMeta, encodeDumpFrame } from "../../sim/frame_dump.js";

const HELP = `usage: spatial-reward sim-dump --out DIR [--seed 7] [--frames 150] [--noise realsense|none]
                                [--width 640] [--height 480]

Writes the seeded teleop episode as raw frames for programs outside Node (the DDS interop
peers): DIR/meta.txt, DIR/frame_NNNNN.bin (format: sim/frame_dump.ts), DIR/spec.txt (the
task as a reward spec) and DIR/truth.jsonl (per frame: the reward of that spec on the
simulator's ground truth, and every object's true centre and size in the spatial frame).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: "string" },
      seed: { type: "string", default: "7" },
      frames: { type: "string", default: "150" },
      noise: { type: "string", default: "realsense" },
      width: { type: "string", default: "640" },
      height: { type: "string", default: "480" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || !values.out) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const noise = values.noise as NoiseModel;
  if (noise !== "none" && noise !== "realsense") throw new Error(`--noise must be none or realsense, got ${values.noise}`);
  const frames = Number(values.frames);
  const seed = Number(values.seed);
  const { world, camera, episode } = teleopScenario(seed, frames, { width: Number(values.width), height: Number(values.height) });
  const sensor = new RgbdSensor({ noise, seed });
  const tracker = new RewardTracker(parseRewardSpec(episode.instruction));
  mkdirSync(values.out, { recursive: true });
  const truth: string[] = [];
  for (let f = 0; f < frames; f++) {
    const cap = sensor.capture(worldAt(world, episode.poses[f]), camera, BigInt(f) * 33_333_333n);
    if (f === 0) writeFileSync(join(values.out, "meta.txt"), dumpMeta(cap.frame, frames, "camera_color_optical_frame"));
    writeFileSync(join(values.out, `frame_${String(f).padStart(5, "0")}.bin`), encodeDumpFrame(cap.frame));
    const r = tracker.update(cap.truth);
    truth.push(JSON.stringify({
      index: f,
      reward: r.reward,
      progress: r.progress,
      success: r.success,
      residual: r.residual,
      objects: cap.truth.objects.map((o) => ({ id: o.id, kind: o.kind, color: o.color, center: o.center, size: o.size })),
    }));
  }
  writeFileSync(join(values.out, "truth.jsonl"), truth.join("\n") + "\n");
  writeFileSync(join(values.out, "spec.txt"), episode.instruction + "\n");
  console.log(JSON.stringify({ out: values.out, frames, seed, spec: episode.instruction }));
  return 0;
}
