import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { backboneSizes, parseBackboneConfig, TINY_CONFIG, type BackboneConfig } from "../../src/backbone/config.js";
import { parameterCount, type Weights } from "../../src/backbone/tensor_names.js";
import { buildDecode, buildLmHead, buildMambaPrefill, buildMambaStep } from "../../src/backbone/graphs/mamba_graphs.js";
import {
  buildCoarseToFineGraph, buildProjectorGraph, buildVisionGraph, buildVisionProjectorGraph,
} from "../../src/backbone/graphs/vision_graphs.js";
import { modelProtoType } from "../../src/backbone/onnx/onnx_proto.js";
import { ModelError } from "../../src/errors.js";
import { CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE, initModelFolder, readModelFolder } from "../backbone/model_folder.js";
import { UsageError } from "./cli_args.js";
import type { BackboneInfoOptions, BackboneInitOptions } from "./program.js";

/**
 * `spatial-reward backbone info|init` (bench: backbone_bench.ts). Options are checked by
 * program.ts; a model folder that cannot be used is a ModelError naming the file and tensor
 * (exit 1, one line).
 */

/** One input or output of a graph: its name, element type and shape (a symbolic dim is a name such as "B"). */
export interface GraphValue {
  name: string;
  type: string;
  shape: (number | string)[];
}

export interface GraphDescription {
  name: string;
  inputs: GraphValue[];
  outputs: GraphValue[];
}

export interface BackboneDescription {
  dir: string;
  config: BackboneConfig;
  parameters: number;
  state_bytes_per_stream: number;
  visual_tokens_per_frame: number;
  files: { name: string; bytes: number }[];
  graphs: GraphDescription[];
}

const ELEM_TYPES: Readonly<Record<number, string>> = { 1: "float32", 6: "int32", 7: "int64", 9: "bool" };

interface DecodedValueInfo {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number | string; dim_param?: string }[] } } };
}

/** Inputs and outputs of a serialised ONNX model, read back from its bytes: exactly what onnxruntime is given. */
export function describeGraph(name: string, bytes: Uint8Array): GraphDescription {
  const type = modelProtoType();
  const model = type.toObject(type.decode(bytes), { longs: Number, defaults: false }) as { graph?: { input?: DecodedValueInfo[]; output?: DecodedValueInfo[] } };
  const values = (list: DecodedValueInfo[] | undefined): GraphValue[] => (list ?? []).map((v) => ({
    name: v.name ?? "",
    type: ELEM_TYPES[v.type?.tensor_type?.elem_type ?? 0] ?? "unknown",
    shape: (v.type?.tensor_type?.shape?.dim ?? []).map((d) => d.dim_param ?? Number(d.dim_value ?? 0)),
  }));
  return { name, inputs: values(model.graph?.input), outputs: values(model.graph?.output) };
}

/**
 * Every graph of models/README.md's table this model has: what the runtime runs
 * (vision_projector or vision_c2f, mamba_prefill, decode) and the pieces they are made of.
 */
export function describeGraphs(config: BackboneConfig, weights: Weights): GraphDescription[] {
  const c2f: [string, () => Uint8Array][] = config.coarse_to_fine
    ? [
      ["vision_coarse", () => buildVisionGraph(config, weights, true).toModelBytes()],
      ["vision_c2f", () => buildCoarseToFineGraph(config, weights, { question: true }).toModelBytes()],
    ]
    : [];
  const graphs: [string, () => Uint8Array][] = [
    ["vision", () => buildVisionGraph(config, weights).toModelBytes()],
    ["projector", () => buildProjectorGraph(config, weights).toModelBytes()],
    ["vision_projector", () => buildVisionProjectorGraph(config, weights).toModelBytes()],
    ...c2f,
    ["mamba_step", () => buildMambaStep(config, weights)],
    ["mamba_prefill", () => buildMambaPrefill(config, weights)],
    ["lm_head", () => buildLmHead(config, weights)],
    ["decode", () => buildDecode(config, weights)],
  ];
  return graphs.map(([name, build]) => describeGraph(name, build()));
}

export async function describeModel(dir: string): Promise<BackboneDescription> {
  const folder = await readModelFolder(dir);
  const sizes = backboneSizes(folder.config);
  return {
    dir,
    config: folder.config,
    parameters: parameterCount(folder.config),
    state_bytes_per_stream: sizes.stateBytes,
    visual_tokens_per_frame: sizes.visualTokens,
    files: folder.files.map((f) => ({ name: f.name, bytes: f.bytes })),
    graphs: describeGraphs(folder.config, folder.weights),
  };
}

const shapeText = (v: GraphValue) => `${v.name} ${v.type}[${v.shape.join(", ")}]`;

export async function runInfo(values: BackboneInfoOptions): Promise<number> {
  const d = await describeModel(values.model);
  if (values.json) {
    console.log(JSON.stringify(d));
    return 0;
  }
  const c = d.config;
  const lines = [
    `model ${d.dir}: ${c.trained ? "trained" : "UNTRAINED (seeded random weights: for timing only, never for answers)"}`,
    `parameters ${d.parameters.toLocaleString("en-US")}; state per stream ${d.state_bytes_per_stream.toLocaleString("en-US")} bytes; ${d.visual_tokens_per_frame} visual tokens per frame`,
    `files: ${d.files.map((f) => `${f.name} ${f.bytes.toLocaleString("en-US")} bytes`).join(", ")}`,
    "config:",
    ...Object.entries(c).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
    "graphs:",
    ...d.graphs.flatMap((g) => [
      `  ${g.name}`,
      `    in:  ${g.inputs.map(shapeText).join("; ")}`,
      `    out: ${g.outputs.map(shapeText).join("; ")}`,
    ]),
  ];
  console.log(lines.join("\n"));
  return 0;
}

/** Largest config file read: a config is a few hundred bytes; a huge file is a mistake, not a config. */
export const MAX_CONFIG_FILE_BYTES = 16 * 1024 * 1024;

/**
 * A config.json given on the command line (init --config, bench --config), checked by
 * parseBackboneConfig. Its size is checked before it is read. Any problem is a ModelError naming
 * the file (exit 1, one line).
 */
export function readConfigFile(file: string): BackboneConfig {
  let json: unknown;
  try {
    const bytes = statSync(file).size;
    if (bytes > MAX_CONFIG_FILE_BYTES) {
      throw new ModelError(file, `is ${bytes.toLocaleString("en-US")} bytes, more than a config may be (${MAX_CONFIG_FILE_BYTES.toLocaleString("en-US")})`);
    }
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    if (e instanceof ModelError) throw e;
    throw new ModelError(file, `not a JSON config: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
  }
  try {
    return parseBackboneConfig(json);
  } catch (e) {
    // parseBackboneConfig names "config.json"; the file the user gave is this one.
    if (e instanceof ModelError) throw new ModelError(file, e.message.replace(/^config\.json: /, ""));
    throw e;
  }
}

export async function runInit(values: BackboneInitOptions): Promise<number> {
  // Never over a model: a trained model replaced by random weights is a loss nobody asked for.
  const present = [CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE].filter((f) => existsSync(join(values.out, f)));
  if (present.length > 0) throw new UsageError(`--out ${values.out} already holds ${present.join(", ")}: choose an empty or new folder`);
  const config = values.config === undefined ? TINY_CONFIG : readConfigFile(values.config);
  await initModelFolder(values.out, config, values.seed);
  const sizes = backboneSizes(config);
  const summary = {
    out: values.out, seed: values.seed, trained: false, parameters: parameterCount(config), state_bytes_per_stream: sizes.stateBytes,
  };
  if (values.json) console.log(JSON.stringify(summary));
  else {
    console.log(`wrote a seeded-random model (seed ${values.seed}, ${summary.parameters.toLocaleString("en-US")} parameters) to ${values.out}: ` +
      "untrained, for timing only; its output is never presented as an answer");
  }
  return 0;
}
