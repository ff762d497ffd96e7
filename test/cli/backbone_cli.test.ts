import { RUNTIME_SMALL } from "../backbone/fixtures.js";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { backboneSizes, type BackboneConfig } from "../../src/backbone/config.js";
import { parameterCount } from "../../src/backbone/tensor_names.js";

/**
 * `spatial-reward backbone info|init` as users run them (the built CLI, `npm run build` first):
 * a model written by init reads back with the sizes the config implies, every graph's
 * inputs and outputs with shapes; bad folders exit 1 naming file and tensor; wrong command
 * lines exit 2 in one line.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "sr-backbone-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string }
function run(args: string[]): Run {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 120_000, cwd: work, env: { ...process.env, SPATIAL_REWARD_DEBUG: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(r: Run, code: number, ...mentions: string[]): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code, stdout: "" });
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0].startsWith("spatial-reward backbone: "), lines[0]).toBe(true);
  for (const m of mentions) expect(lines[0]).toContain(m);
}

/** A small config (fast to write and describe), different from the default in every size that shows. */
const SMALL: BackboneConfig = { ...RUNTIME_SMALL, n_layer: 3 };

interface Described {
  config: BackboneConfig;
  parameters: number;
  state_bytes_per_stream: number;
  visual_tokens_per_frame: number;
  files: { name: string; bytes: number }[];
  graphs: { name: string; inputs: { name: string; type: string; shape: (number | string)[] }[]; outputs: { name: string; type: string; shape: (number | string)[] }[] }[];
}

describe("spatial-reward backbone init and info", () => {
  it("is built", () => {
    expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
  });

  const model = join(work, "small");
  it("init writes an untrained seeded-random folder from --config; info reads it back with sizes, parameters and graph shapes", () => {
    writeFileSync(join(work, "small.json"), JSON.stringify({ ...SMALL, trained: true }));
    const init = run(["backbone", "init", "--out", model, "--seed", "5", "--config", join(work, "small.json"), "--json"]);
    expect(init.code, init.stderr).toBe(0);
    const summary = JSON.parse(init.stdout.trim().split("\n").pop()!) as { trained: boolean; parameters: number };
    // A seeded-random model is never marked trained, whatever the config said.
    expect(summary.trained).toBe(false);
    expect(JSON.parse(readFileSync(join(model, "config.json"), "utf8")).trained).toBe(false);

    const info = run(["backbone", "info", "--model", model, "--json"]);
    expect(info.code, info.stderr).toBe(0);
    const d = JSON.parse(info.stdout.trim().split("\n").pop()!) as Described;
    const sizes = backboneSizes(SMALL);
    expect(d.parameters).toBe(parameterCount(SMALL));
    expect(summary.parameters).toBe(d.parameters);
    expect(d.state_bytes_per_stream).toBe(4 * 3 * 64 * (4 + 8));
    expect(d.state_bytes_per_stream).toBe(sizes.stateBytes);
    expect(d.visual_tokens_per_frame).toBe(4);
    expect(d.config).toEqual({ ...SMALL, trained: false });
    expect(d.files.find((f) => f.name === "model.safetensors")!.bytes).toBe(statSync(join(model, "model.safetensors")).size);
    expect(d.graphs.map((g) => g.name).sort()).toEqual(["decode", "lm_head", "mamba_prefill", "mamba_step", "projector", "vision", "vision_c2f", "vision_coarse", "vision_projector"]);
    const step = d.graphs.find((g) => g.name === "mamba_step")!;
    expect(step.inputs).toEqual([
      { name: "embeds", type: "float32", shape: ["B", 32] },
      { name: "conv_state", type: "float32", shape: ["B", 3, 64, 4] },
      { name: "ssm_state", type: "float32", shape: ["B", 3, 64, 8] },
    ]);
    expect(step.outputs.map((o) => o.name)).toEqual(["hidden", "conv_state_out", "ssm_state_out"]);
    const decode = d.graphs.find((g) => g.name === "decode")!;
    expect(decode.inputs[0]).toEqual({ name: "token_ids", type: "int64", shape: ["B"] });
    expect(decode.outputs.find((o) => o.name === "logits")!.shape).toEqual(["B", 264]);
    const vision = d.graphs.find((g) => g.name === "vision")!;
    expect(vision.inputs[0].shape).toEqual(["B", "T", 3 * 16 * 16]);
    expect(vision.outputs[0].shape).toEqual(["B", "T", 24]);

    const text = run(["backbone", "info", "--model", model]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("UNTRAINED");
    expect(text.stdout).toContain(`parameters ${d.parameters.toLocaleString("en-US")}`);
    expect(text.stdout).toContain("conv_state float32[B, 3, 64, 4]");
    for (const g of d.graphs) expect(text.stdout).toContain(`  ${g.name}\n`);
  }, 120_000);

  it("init refuses a folder that already holds a model (exit 2) and leaves it untouched", () => {
    const before = readFileSync(join(model, "model.safetensors"));
    expectOneLineError(run(["backbone", "init", "--out", model]), 2, "already holds", "config.json");
    expect(readFileSync(join(model, "model.safetensors")).equals(before)).toBe(true);
  });

  it("info on a missing, truncated or mismatched folder exits 1 with one line naming file and tensor", () => {
    expectOneLineError(run(["backbone", "info", "--model", join(work, "none")]), 1, join(work, "none"), "cannot be opened");
    const truncated = join(work, "truncated");
    cpSync(model, truncated, { recursive: true });
    truncateSync(join(truncated, "model.safetensors"), statSync(join(truncated, "model.safetensors")).size - 64);
    const t = run(["backbone", "info", "--model", truncated]);
    expectOneLineError(t, 1, "model.safetensors (");
    const mismatch = join(work, "mismatch");
    cpSync(model, mismatch, { recursive: true });
    writeFileSync(join(mismatch, "config.json"), JSON.stringify({ ...SMALL, trained: false, d_state: 4 }));
    expectOneLineError(run(["backbone", "info", "--model", mismatch]), 1, "model.safetensors (backbone.layers.0.mixer.", "config does not match");
    const badTokenizer = join(work, "tokenizer");
    cpSync(model, badTokenizer, { recursive: true });
    writeFileSync(join(badTokenizer, "tokenizer.json"), "{ not json");
    expectOneLineError(run(["backbone", "info", "--model", badTokenizer]), 1, "tokenizer.json");
  }, 60_000);

  it("wrong command lines exit 2 with one line naming the option", () => {
    expectOneLineError(run(["backbone", "info"]), 2, "--model");
    expectOneLineError(run(["backbone", "init", "--out", join(work, "x"), "--seed", "-1"]), 2, "--seed");
    expectOneLineError(run(["backbone", "init", "--out", join(work, "x"), "--config", join(work, "nope.json")]), 2, "--config", "does not exist");
    expectOneLineError(run(["backbone", "init"]), 2, "--out");
    expectOneLineError(run(["backbone", "bench", "--frames", "3"]), 2, "--frames");
    expectOneLineError(run(["backbone", "bench", "--contexts", "0,256"]), 2, "--contexts");
    expectOneLineError(run(["backbone", "bench", "--contexts", "1e9"]), 2, "--contexts");
    expectOneLineError(run(["backbone", "bench", "--contexts", ","]), 2, "--contexts");
    expectOneLineError(run(["backbone", "bench", "--config", join(work, "nope.json")]), 2, "--config", "does not exist");
    expectOneLineError(run(["backbone", "frob"]), 2, "frob");
    expect(existsSync(join(work, "x"))).toBe(false);
  });

  it("a config file that is not a valid config exits 1 naming that file", () => {
    writeFileSync(join(work, "bad.json"), JSON.stringify({ ...SMALL, d_model: -3 }));
    expectOneLineError(run(["backbone", "init", "--out", join(work, "y"), "--config", join(work, "bad.json")]), 1, "bad.json", "d_model");
    writeFileSync(join(work, "notjson.json"), "{");
    expectOneLineError(run(["backbone", "init", "--out", join(work, "y"), "--config", join(work, "notjson.json")]), 1, "notjson.json", "not a JSON config");
    expect(existsSync(join(work, "y", "model.safetensors"))).toBe(false);
  });

  it("a config file over 16 MiB is refused before it is read: exit 1, one line naming it and its size", () => {
    const big = join(work, "big.json");
    writeFileSync(big, "");
    truncateSync(big, 16 * 1024 * 1024 + 1); // sparse: costs no disk
    expectOneLineError(run(["backbone", "init", "--out", join(work, "z"), "--config", big]), 1, "big.json", "16,777,217 bytes", "more than a config may be");
    expect(existsSync(join(work, "z", "model.safetensors"))).toBe(false);
  });

  it("--help lists the subcommands and their options", () => {
    const h = run(["backbone", "--help"]);
    expect(h.code).toBe(0);
    for (const c of ["info", "init", "bench"]) expect(h.stdout).toContain(`  ${c} `);
    expect(run(["backbone", "info", "--help"]).stdout).toContain("--model <DIR>");
    expect(run(["backbone", "bench", "--help"]).stdout).toContain("--quick");
    expect(run(["help", "backbone"]).stdout).toBe(h.stdout);
  });
});
