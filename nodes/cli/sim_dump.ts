import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseRewardSpec } from "../../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../../src/reward/reward_tracker.js";
import { RgbdSensor, teleopScenario, worldAt } from "../../sim/index.js";
import { dumpMeta, encodeDumpFrame } from "../../sim/frame_dump.js";
import type { SimDumpOptions } from "./program.js";

/** Writes the seeded teleop episode as raw files (options checked by program.ts). */
export async function run(values: SimDumpOptions): Promise<number> {
  const { noise, frames, seed } = values;
  const { world, camera, episode } = teleopScenario(seed, frames, { width: values.width, height: values.height });
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
