import { mkdir, open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { ModelError } from "../../src/errors.js";
import { parseBackboneConfig, type BackboneConfig } from "../../src/backbone/config.js";
import { expectedTensors, type Weights } from "../../src/backbone/tensor_names.js";
import { parseSafetensors, writeSafetensors, type TensorToWrite } from "../../src/backbone/safetensors.js";
import { checkWeights } from "../../src/backbone/model_weights.js";
import { BackboneTokenizer, checkTokenizerFits } from "../../src/backbone/tokenizer.js";
import { defaultTokenizerJson } from "../../src/backbone/byte_tokenizer.js";
import { randomWeights } from "../../src/backbone/random_init.js";

export const CONFIG_FILE = "config.json";
export const WEIGHTS_FILE = "model.safetensors";
export const TOKENIZER_FILE = "tokenizer.json";

const MiB = 1024 * 1024;
/** Read caps, checked before reading: JSON files this large are not configs; 4 GiB is Node's Buffer limit. */
export const MAX_FILE_BYTES: Readonly<Record<string, number>> = {
  [CONFIG_FILE]: 16 * MiB,
  [TOKENIZER_FILE]: 16 * MiB,
  [WEIGHTS_FILE]: 4 * 1024 * MiB,
};

export interface ModelFolderFile {
  /** Relative to the folder. */
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
}

export interface ModelFolder {
  readonly config: BackboneConfig;
  readonly weights: Weights;
  readonly tokenizer: BackboneTokenizer;
  readonly tokenizerJson: unknown;
  readonly files: readonly ModelFolderFile[];
}

/**
 * Reads and validates a model folder (models/README.md). Every failure is a ModelError naming
 * the file (relative to `dir`) and, for weights, the tensor. Weights are zero-copy views on the
 * file's bytes where aligned.
 */
export async function readModelFolder(dir: string): Promise<ModelFolder> {
  let st;
  try {
    st = await stat(dir);
  } catch (e) {
    throw new ModelError(dir, `model folder cannot be opened: ${ioReason(e)}`);
  }
  if (!st.isDirectory()) throw new ModelError(dir, "is not a folder (a model is a folder with config.json, model.safetensors, tokenizer.json)");
  // Open all three first so a missing tokenizer is reported before a large weights file is read.
  const names = [CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE];
  const handles: FileHandle[] = [];
  try {
    for (const name of names) handles.push(await openForRead(dir, name));
    // The small files first: a bad config or tokenizer is reported without reading the weights.
    const configBytes = await readCapped(handles[0]!, CONFIG_FILE);
    const config = parseBackboneConfig(parseJson(configBytes, CONFIG_FILE));
    const tokenizerBytes = await readCapped(handles[2]!, TOKENIZER_FILE);
    const tokenizerJson = parseJson(tokenizerBytes, TOKENIZER_FILE);
    const tokenizer = BackboneTokenizer.fromJson(tokenizerJson, TOKENIZER_FILE);
    checkTokenizerFits(config, tokenizer, CONFIG_FILE);
    const weightBytes = await readCapped(handles[1]!, WEIGHTS_FILE);
    const weights = checkWeights(config, parseSafetensors(weightBytes, WEIGHTS_FILE).tensors, WEIGHTS_FILE);
    const files = [
      { name: CONFIG_FILE, path: join(dir, CONFIG_FILE), bytes: configBytes.length },
      { name: WEIGHTS_FILE, path: join(dir, WEIGHTS_FILE), bytes: weightBytes.length },
      { name: TOKENIZER_FILE, path: join(dir, TOKENIZER_FILE), bytes: tokenizerBytes.length },
    ];
    return { config, weights, tokenizer, tokenizerJson, files };
  } finally {
    await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
  }
}

export interface ModelFolderContents {
  readonly config: BackboneConfig;
  readonly weights: Weights;
  readonly tokenizerJson: unknown;
}

/**
 * Writes a model folder (creating `dir`). Everything is checked as readModelFolder would check
 * it first, so a folder this writes always reads back; each file is written beside its final
 * name and renamed, so an interrupted write never leaves a truncated model.safetensors.
 */
export async function writeModelFolder(dir: string, contents: ModelFolderContents): Promise<void> {
  const config = parseBackboneConfig(JSON.parse(JSON.stringify(contents.config)) as unknown);
  const toWrite = new Map<string, TensorToWrite>();
  const specs = expectedTensors(config);
  for (const spec of specs) {
    const data = contents.weights.get(spec.name);
    if (!data) throw new ModelError(WEIGHTS_FILE, "missing from the weights to write", spec.name);
    toWrite.set(spec.name, { shape: spec.shape, data });
  }
  // Shapes come from the config, so this catches wrong lengths and tensors the config has no place for.
  const given = new Map([...contents.weights].map(([name, data]) => [name, { shape: toWrite.get(name)?.shape ?? [data.length], data }]));
  checkWeights(config, given, WEIGHTS_FILE);
  const tokenizer = BackboneTokenizer.fromJson(contents.tokenizerJson, TOKENIZER_FILE);
  checkTokenizerFits(config, tokenizer, CONFIG_FILE);
  const weightBytes = writeSafetensors(toWrite, { format: "pt" }, WEIGHTS_FILE);
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new ModelError(dir, `model folder cannot be created: ${ioReason(e)}`);
  }
  const enc = new TextEncoder();
  await writeAtomically(dir, CONFIG_FILE, enc.encode(`${JSON.stringify(config, null, 2)}\n`));
  await writeAtomically(dir, TOKENIZER_FILE, enc.encode(JSON.stringify(contents.tokenizerJson)));
  await writeAtomically(dir, WEIGHTS_FILE, weightBytes);
}

/**
 * Writes a seeded-random model (Mamba's own init, `randomWeights`) with the default byte-level
 * tokenizer. `trained` is forced false: such a model is for timing, never for answers.
 */
export async function initModelFolder(dir: string, config: BackboneConfig, seed: number): Promise<void> {
  const untrained: BackboneConfig = { ...config, trained: false };
  await writeModelFolder(dir, { config: untrained, weights: randomWeights(untrained, seed), tokenizerJson: defaultTokenizerJson() });
}

async function openForRead(dir: string, name: string): Promise<FileHandle> {
  try {
    return await open(join(dir, name), "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ModelError(name, `missing from the model folder ${dir}`);
    throw new ModelError(name, `cannot be opened: ${ioReason(e)}`);
  }
}

/** Checks the size against the cap before reading, then reads exactly that many bytes. */
async function readCapped(h: FileHandle, name: string): Promise<Uint8Array> {
  const cap = MAX_FILE_BYTES[name]!;
  let size: number;
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new ModelError(name, "is not a regular file");
    size = st.size;
  } catch (e) {
    if (e instanceof ModelError) throw e;
    throw new ModelError(name, `cannot be read: ${ioReason(e)}`);
  }
  if (size > cap) {
    const limit = cap >= 1024 * MiB ? `${cap / (1024 * MiB)} GiB` : `${cap / MiB} MiB`;
    throw new ModelError(name, `is ${size} bytes, over the ${limit} limit for ${name}; not read`);
  }
  // fs.readFile stops at 2 GiB; read in chunks into one buffer instead.
  const out = new Uint8Array(size);
  let at = 0;
  try {
    while (at < size) {
      const { bytesRead } = await h.read(out, at, Math.min(size - at, 64 * MiB), at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
  } catch (e) {
    throw new ModelError(name, `cannot be read: ${ioReason(e)}`);
  }
  if (at !== size) throw new ModelError(name, `changed while being read (${at} of ${size} bytes read)`);
  return out;
}

function parseJson(bytes: Uint8Array, name: string): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ModelError(name, "is not valid UTF-8 text");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ModelError(name, `is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

async function writeAtomically(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const final = join(dir, name);
  const tmp = `${final}.tmp-${process.pid}`;
  try {
    const h = await open(tmp, "w");
    try {
      await h.writeFile(bytes);
    } finally {
      await h.close();
    }
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new ModelError(name, `cannot be written: ${ioReason(e)}`);
  }
}

function ioReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === "string") {
    switch (err.code) {
      case "ENOENT":
        return "does not exist";
      case "EACCES":
      case "EPERM":
        return "permission denied";
      case "EISDIR":
        return "is a folder, not a file";
      case "ENOTDIR":
        return "a part of the path is not a folder";
      default:
        return `${err.code}${err.message ? ` (${err.message})` : ""}`;
    }
  }
  return e instanceof Error ? e.message : String(e);
}
