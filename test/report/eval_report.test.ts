import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EvalReport, type EvalSummary } from "../../nodes/report/eval_report.js";
import { simSample } from "../../nodes/cli/sim_samples.js";

const work = mkdtempSync(join(tmpdir(), "sr-eval-report-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function summary(extra: Partial<EvalSummary> = {}): EvalSummary {
  return {
    scenes: 2, seed: 100, noise: "none", masks: "gt", width: 640, height: 480, hfov_deg: 69, seconds: 1.2,
    n_questions: 30, n_qualitative: 20, n_quantitative: 10, qualitative_accuracy: 0.95, quantitative_answered: 1,
    quantitative_within_0_5x_2x: 0.9, quantitative_within_10pct: 0.5,
    by_type: {
      left_of: { n: 20, category: "qualitative", accuracy: 0.95, within_0_5x_2x: Number.NaN, within_10pct: Number.NaN },
      distance: { n: 10, category: "quantitative", accuracy: 0.9, within_0_5x_2x: 0.9, within_10pct: 0.5, median_relative_error: 0.08 },
      never_asked: { n: 0, category: "choice", accuracy: Number.NaN, within_0_5x_2x: Number.NaN, within_10pct: Number.NaN },
      "<img src=x onerror=alert(1)>": { n: 1, category: "<b>", accuracy: 1, within_0_5x_2x: 0, within_10pct: 0 },
    },
    rejected_frames: { no_support_plane: 1 },
    ...extra,
  };
}

describe("EvalReport", () => {
  it("keeps the first scene perception accepted and draws it beside the accuracy figure", async () => {
    const dir = join(work, "engine");
    const report = EvalReport.open(dir);
    const first = simSample(100, { noise: "none", masks: "gt" });
    report.addScene(99, first, null);
    report.addScene(100, first, { stamp: 0n, objects: [], supportZ: null });
    report.addScene(101, simSample(101, { noise: "none", masks: "gt" }), { stamp: 0n, objects: [], supportZ: null });
    const page = await report.write(summary());
    expect(page).toBe(join(dir, "index.html"));
    expect(readdirSync(dir).sort()).toEqual(["accuracy.png", "frame.png", "index.html", "report.json"]);
    const html = readFileSync(page, "utf8");
    expect(html).toContain("The first evaluated scene (seed 100)");
    expect(html).toContain("<title>spatial-reward eval (engine): 95.0% qualitative, 90.0% within [0.5x, 2x]</title>");
    expect(html).toContain("no_support_plane: 1");
    expect(html).not.toContain("never_asked");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("says an untrained backbone is untrained, and draws no frame for the backbone", async () => {
    const dir = join(work, "backbone");
    const report = EvalReport.open(dir);
    await report.write(summary({ backbone: { model: "/m", trained: false, unparsed_answers: 7, chance_qualitative_accuracy: 0.48 } }));
    expect(readdirSync(dir).sort()).toEqual(["accuracy.png", "index.html", "report.json"]);
    const html = readFileSync(join(dir, "index.html"), "utf8");
    expect(html).toContain("<title>spatial-reward eval (backbone, UNTRAINED)");
    expect(html).toContain("UNTRAINED: seeded random weights");
    expect(html).toContain("<td>answers not understood</td><td>7</td>");
    expect(html).not.toContain("Perception accepted no scene");
  });

  it("says so when perception accepted no scene", async () => {
    const dir = join(work, "none");
    const report = EvalReport.open(dir);
    report.addScene(1, simSample(1, { noise: "none", masks: "gt" }), null);
    await report.write(summary());
    expect(readFileSync(join(dir, "index.html"), "utf8")).toContain("Perception accepted no scene: there is no camera figure.");
    expect(readdirSync(dir)).not.toContain("frame.png");
  });
});
