import type { PinholeIntrinsics } from "../../src/geometry/intrinsics.js";
import type { EvalSample } from "../../src/eval/spatial_eval.js";
import { isSpatialRewardError } from "../../src/errors.js";
import { Perception } from "../../src/perception/perception.js";
import { perceptionKernels } from "../perception/native_perception_kernels.js";
import { displayName, type Scene } from "../../src/scene/scene_object.js";
import { drawAccuracyFigure, drawnTypes, type TypeScore } from "./accuracy_figure.js";
import { figureBackend } from "./figure_backend.js";
import { drawFrameFigure } from "./frame_figure.js";
import { ReportDir, REPORT_FORMAT } from "./report_dir.js";
import { renderPage, type PageFigure, type PageTable } from "./report_page.js";

/** eval's result, the fields the report shows (nodes/cli/eval.ts prints the same object with --json). */
export interface EvalSummary {
  scenes: number;
  seed: number;
  noise: string;
  masks: string;
  width: number;
  height: number;
  hfov_deg: number;
  seconds: number;
  n_questions: number;
  n_qualitative: number;
  n_quantitative: number;
  qualitative_accuracy: number;
  quantitative_answered: number;
  quantitative_within_0_5x_2x: number;
  quantitative_within_10pct: number;
  by_type: Readonly<Record<string, TypeScore & { median_relative_error?: number | null }>>;
  rejected_frames: Readonly<Record<string, number>>;
  /** Only with --source backbone. */
  backbone?: { model: string; trained: boolean; unparsed_answers: number; chance_qualitative_accuracy: number };
}

interface KeptScene {
  seed: number;
  rgb: Uint8Array;
  width: number;
  height: number;
  encoding: string;
  intrinsics: PinholeIntrinsics;
  scene: Scene;
  rotation: Float64Array;
}

/**
 * `eval --report DIR`: accuracy per question type as a figure and a table, the key numbers, and
 * the first scene perception accepted with its 3D boxes projected on the camera frame.
 */
export class EvalReport {
  private kept: KeptScene | null = null;

  private constructor(private readonly dir: ReportDir) {}

  /** Creates DIR now: a place that cannot be written fails before the evaluation, not after it. */
  static open(dir: string): EvalReport {
    return new EvalReport(ReportDir.open(dir));
  }

  /** For runSpatialEval's onScene hook: keeps the first scene perception accepted. */
  addScene(seed: number, sample: EvalSample, scene: Scene | null): void {
    if (this.kept === null && scene !== null) this.keep(seed, sample);
  }

  private keep(seed: number, sample: EvalSample): void {
    // runSpatialEval's Perception is its own; the same frame through a fresh one (both are
    // deterministic) gives the scene again with the spatial frame the boxes are drawn in.
    const perception = new Perception({ kernels: perceptionKernels() });
    let scene: Scene;
    try {
      scene = perception.process(sample.frame);
    } catch (e) {
      if (isSpatialRewardError(e)) return;
      throw e;
    }
    if (!perception.lastFrame) return;
    const img = sample.frame.rgb;
    const bytes = img.width * 3;
    const rgb = new Uint8Array(bytes * img.height);
    for (let v = 0; v < img.height; v++) rgb.set(img.data.subarray(v * img.step, v * img.step + bytes), v * bytes);
    this.kept = { seed, rgb, width: img.width, height: img.height, encoding: img.encoding, intrinsics: sample.frame.intrinsics, scene, rotation: Float64Array.from(perception.lastFrame.rotation) };
  }

  /** Draws the figures and writes the page; returns the page's path. A failure takes back what this run wrote. */
  async write(out: EvalSummary): Promise<string> {
    try {
      return await this.writeAll(out);
    } catch (e) {
      this.dir.abandon();
      throw e;
    }
  }

  private async writeAll(out: EvalSummary): Promise<string> {
    const backend = await figureBackend();
    const notes: string[] = [];
    if (backend.fontFamily === "") notes.push("No font was found on this system: the figures have no text (Debian: apt install fonts-dejavu-core).");
    const source = out.backbone ? `the backbone model ${out.backbone.model}${out.backbone.trained ? "" : " (UNTRAINED: seeded random weights; figures measure the pipeline, not a model)"}, RGB only` : "the engine (perception + spatial answers on RGB-D)";
    const figures: PageFigure[] = [];
    const types = drawnTypes(out.by_type);
    const accuracy = await drawAccuracyFigure(out.by_type, `Accuracy per question type: ${out.n_questions} questions, ${out.scenes} scenes`);
    this.dir.write("accuracy.png", accuracy);
    figures.push({ file: "accuracy.png", caption: `Per question type: the share of right answers (yes/no, which-one, clock and other exact answers) and of metric answers within [0.5x, 2x] and within 10% of the truth. Answered by ${source}.`, width: 900, height: Math.max(260, 130 + types.length * 24) });
    const k = this.kept;
    const colors = new Map<string, string>();
    if (k) {
      const fig = await drawFrameFigure({
        image: { width: k.width, height: k.height, encoding: k.encoding, step: k.width * 3, data: k.rgb },
        intrinsics: k.intrinsics,
        perceived: { scene: k.scene, rotation: k.rotation },
        caption: `scene seed ${k.seed}: ${k.scene.objects.length} objects perceived (noise ${out.noise}, masks ${out.masks})`,
      });
      this.dir.write("frame.png", fig.png);
      for (const l of fig.labels) colors.set(l.id, l.color);
      figures.push({ file: "frame.png", caption: `The first evaluated scene (seed ${k.seed}) as the camera saw it, with the 3D boxes perception built from it projected with the camera intrinsics and labelled.`, width: fig.width, height: fig.height });
    } else if (!out.backbone) {
      notes.push("Perception accepted no scene: there is no camera figure.");
    }
    const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "–");
    const tables: PageTable[] = [{
      title: "By question type",
      head: ["type", "category", "questions", "correct", "within [0.5x, 2x]", "within 10%", "median relative error"],
      rows: types.map(([t, s]) => {
        const metric = s.category === "quantitative";
        const mre = out.by_type[t].median_relative_error;
        return [t, s.category, String(s.n), metric ? "" : pct(s.accuracy), metric ? pct(s.within_0_5x_2x) : "", metric ? pct(s.within_10pct) : "", metric && mre !== null && mre !== undefined ? String(mre) : ""];
      }),
    }];
    if (k) {
      tables.push({
        title: `Objects perceived in scene ${k.seed}`,
        head: ["object", "id", "size depth × width × height (cm)"],
        rows: k.scene.objects.map((o) => [
          { text: displayName(o), swatch: colors.get(o.id) ?? "#000000" }, o.id,
          `${(o.size.x * 100).toFixed(1)} × ${(o.size.y * 100).toFixed(1)} × ${(o.size.z * 100).toFixed(1)}`,
        ]),
      });
    }
    const rejected = Object.entries(out.rejected_frames);
    const numbers: [string, string][] = [
      ["answered by", source],
      ["questions", `${out.n_questions} over ${out.scenes} scenes (seeds ${out.seed}–${out.seed + out.scenes - 1})`],
      ["qualitative accuracy", `${pct(out.qualitative_accuracy)} (${out.n_qualitative} yes/no, which-one and clock questions)`],
      ["quantitative within [0.5x, 2x]", `${pct(out.quantitative_within_0_5x_2x)} (${out.n_quantitative} metric questions, ${pct(out.quantitative_answered)} answered)`],
      ["quantitative within 10%", pct(out.quantitative_within_10pct)],
      ["camera", `${out.width}×${out.height}, ${out.hfov_deg}° horizontal field of view, sensor noise ${out.noise}, masks ${out.masks}`],
      ["frames refused by perception", rejected.length ? rejected.map(([c, n]) => `${c}: ${n}`).join(", ") : "none"],
      ["time", `${out.seconds} s`],
    ];
    if (out.backbone) {
      numbers.push(["chance (qualitative)", pct(out.backbone.chance_qualitative_accuracy)], ["answers not understood", String(out.backbone.unparsed_answers)]);
    }
    const created = new Date().toISOString();
    const summary = { ...out, by_type: undefined };
    this.dir.write("report.json", `${JSON.stringify({ format: REPORT_FORMAT, version: 1, command: "eval", created, files: figures.map((f) => f.file), summary }, null, 2)}\n`);
    this.dir.write("index.html", renderPage({
      title: `spatial-reward eval (${out.backbone ? `backbone${out.backbone.trained ? "" : ", UNTRAINED"}` : "engine"}): ${pct(out.qualitative_accuracy)} qualitative, ${pct(out.quantitative_within_0_5x_2x)} within [0.5x, 2x]`,
      subtitle: `Every question type asked about fresh simulator scenes and scored against the ground truth (src/spatial/DEFINITIONS.md), ${created}.`,
      numbers, figures, tables, notes,
    }));
    return this.dir.path("index.html");
  }
}
