import { createWriteStream, openSync } from "node:fs";
import { runSpatialEval } from "../../src/eval/spatial_eval.js";
import {
  CLOCK_MARGIN_M, MIN_QUANTITY_M, POSITION_MARGIN_M, SIZE_MARGIN_FRACTION, SIZE_MARGIN_M, VOLUME_MARGIN_FRACTION,
} from "../../src/spatial/question_types.js";
import { Progress } from "./progress.js";
import type { EvalOptions } from "./program.js";
import { simSample } from "./sim_samples.js";

/** Scores every question type on fresh seeded scenes (options checked by program.ts). */
export async function run(values: EvalOptions): Promise<number> {
  const { scenes, seed, noise, masks, width, height, hfovDeg, perType } = values;
  // Opened before the run, so a path that cannot be written fails now, not after every scene.
  const log = values.log === undefined ? null : createWriteStream(values.log, { fd: openSync(values.log, "w") });
  const logFailure: { error: Error | null } = { error: null };
  log?.on("error", (e) => {
    logFailure.error ??= e;
  });
  const progress = new Progress(500, true);
  const t0 = performance.now();
  const result = runSpatialEval((s) => simSample(s, { noise, masks, width, height, hfovDeg }), {
    scenes,
    seed,
    perType,
    onRecord: log ? (r) => log.write(`${JSON.stringify(r)}\n`) : undefined,
    onProgress: (done, total, n) => progress.update(`scene ${done}/${total}  ${n} questions  ${((performance.now() - t0) / done).toFixed(0)} ms/scene`),
  });
  progress.done();
  if (log) {
    await new Promise<void>((resolve) => {
      log.once("close", resolve);
      log.once("error", () => resolve());
      log.end();
    });
  }
  if (logFailure.error !== null) throw new Error(`--log ${values.log}: ${logFailure.error.message}`);
  const out = {
    ...result,
    seed,
    noise,
    masks,
    width,
    height,
    hfov_deg: hfovDeg,
    ambiguity_margins: {
      position_m: POSITION_MARGIN_M,
      size: `min(${SIZE_MARGIN_M} m, ${SIZE_MARGIN_FRACTION * 100}% of the larger)`,
      volume_fraction: VOLUME_MARGIN_FRACTION,
      min_quantity_m: MIN_QUANTITY_M,
      clock_arc_m: CLOCK_MARGIN_M,
      note: "questions whose truth lies within these margins are not asked (counted in `skipped`)",
    },
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
  if (values.json) {
    console.log(JSON.stringify(out));
  } else {
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    console.log(`${out.n_questions} questions over ${scenes} scenes (noise ${noise}, masks ${masks}, ${width}x${height}, hfov ${hfovDeg}°)`);
    console.log(`qualitative accuracy        ${pct(out.qualitative_accuracy)}   (yes/no, which-one, clock: ${out.n_qualitative})`);
    console.log(`quantitative answered       ${pct(out.quantitative_answered)}   (${out.n_quantitative})`);
    console.log(`quantitative within [.5x,2x] ${pct(out.quantitative_within_0_5x_2x)}`);
    console.log(`quantitative within 10%     ${pct(out.quantitative_within_10pct)}`);
    console.log("by type:");
    for (const [type, s] of Object.entries(out.by_type)) {
      console.log(`  ${type.padEnd(22)} n=${String(s.n).padStart(4)}  ${s.category === "quantitative" ? `within10% ${pct(s.within_10pct)}  [.5x,2x] ${pct(s.within_0_5x_2x)}  median rel err ${s.median_relative_error}` : `accuracy ${pct(s.accuracy)}`}`);
    }
    console.log(`skipped as ambiguous: ${JSON.stringify(out.skipped)}; rejected frames: ${JSON.stringify(out.rejected_frames)}`);
  }
  return 0;
}
