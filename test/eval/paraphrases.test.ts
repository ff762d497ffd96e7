import { describe, expect, it } from "vitest";
import { generateWorld, placeCamera, truthScene } from "../../sim/index.js";
import { simSample } from "../../nodes/cli/sim_samples.js";
import { bindParaphrases } from "../../src/eval/paraphrase_binding.js";
import { ParaphraseTally, runParaphraseEval } from "../../src/eval/paraphrase_eval.js";
import { PARAPHRASES } from "../../src/eval/paraphrase_set.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { normalizeQuestion, QUESTION_TEMPLATES, QUESTION_TYPE_IDS, questionType } from "../../src/spatial/index.js";

const UNIT_SUFFIX = / in (?:meters|cm|mm|inches|feet)\?$/;

describe("the paraphrase set", () => {
  it("has at least 300 hand-written entries covering every type, each paired with a template of its type", () => {
    expect(PARAPHRASES.length).toBeGreaterThanOrEqual(300);
    expect(new Set(PARAPHRASES.map((e) => `${e[1]}\n${e[2]}`)).size).toBe(PARAPHRASES.length);
    for (const t of QUESTION_TYPE_IDS) expect(PARAPHRASES.filter((e) => e[0] === t).length, t).toBeGreaterThanOrEqual(4);
    const key = (q: string) => normalizeQuestion(q.replace(/\{([ABC])(?::\w+)?\}/g, "slot$1"));
    for (const [type, canonical, paraphrase] of PARAPHRASES) {
      // The canonical is a template of the type (with a unit request at most).
      expect(QUESTION_TEMPLATES[type].map(key), canonical).toContain(key(canonical.replace(UNIT_SUFFIX, "?")).replace(/slotb(.*)slota/, "slota$1slotb"));
      // A paraphrase is not one of the type's templates.
      expect(QUESTION_TEMPLATES[type].map(key), paraphrase).not.toContain(key(paraphrase));
      // Placeholders name slots the type has; the plural/singular forms only a set slot.
      const t = questionType(type);
      for (const m of `${canonical} ${paraphrase}`.matchAll(/\{([ABC])(?::(\w+))?\}/g)) {
        expect("ABC".indexOf(m[1]), paraphrase).toBeLessThan(t.arity);
        if (m[2] !== undefined) expect([t.slotRoles["ABC".indexOf(m[1])], m[2]], paraphrase).toEqual(["set", expect.stringMatching(/^(plural|singular)$/)]);
      }
    }
  });

  it("binds to a scene's objects: canonical filled as the generator fills templates, paraphrase with bare names", () => {
    const world = generateWorld(8900);
    const truth = truthScene(world, placeCamera(world, 8900, { width: 160, height: 120 }).camera, 0n);
    const { bound, unbound } = bindParaphrases(truth, PARAPHRASES, mulberry32(1));
    expect(bound.length + unbound).toBe(PARAPHRASES.length);
    expect(bound.length).toBeGreaterThan(250);
    for (const b of bound) {
      expect(b.paraphrase + b.canonical).not.toMatch(/[{}]/);
      if (questionType(b.type).slotRoles[0] === "object") expect(b.canonical, b.canonical).toMatch(/the /);
    }
  });
});

describe("paraphrases against their canonical questions", () => {
  it("on 12 simulator truth scenes: at least 95% parse to the canonical's question and are answered exactly as it is", () => {
    const tally = new ParaphraseTally(PARAPHRASES, 50);
    for (let seed = 8910; seed < 8922; seed++) {
      const world = generateWorld(seed);
      const truth = truthScene(world, placeCamera(world, seed, { width: 160, height: 120 }).camera, 0n);
      tally.addScene(seed, truth, truth);
    }
    const r = tally.result();
    expect(r.asked).toBeGreaterThan(3000);
    expect(r.understood / r.asked, JSON.stringify(r.failures.slice(0, 5), null, 1)).toBeGreaterThanOrEqual(0.95);
    expect(r.same_answer / r.asked).toBeGreaterThanOrEqual(0.95);
    // Every type of the set was asked on some scene (elevation needs a lifted object: none here).
    expect(QUESTION_TYPE_IDS.filter((t) => !(t in r.by_type) && t !== "elevation")).toEqual([]);
    // An answer that differed from the canonical's while the parse agreed would be a bug in the answerer.
    expect(r.failures.filter((f) => f.kind === "different_answer")).toEqual([]);
  }, 60_000);

  it("on rendered scenes answered from perception (as eval --paraphrases does): the same bar", () => {
    const r = runParaphraseEval((s) => simSample(s, { noise: "none", masks: "gt", width: 320, height: 240 }), { scenes: 3, seed: 8930 });
    expect(r.scenes).toBe(3);
    expect(r.asked).toBeGreaterThan(700);
    expect(r.understood_pct).toBeGreaterThanOrEqual(95);
    expect(r.same_answer_pct).toBeGreaterThanOrEqual(95);
    expect(r.failures.length).toBeLessThanOrEqual(10);
  }, 120_000);
});
