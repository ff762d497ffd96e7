/**
 * `spatial-reward/backbone`: the Cobra-style backbone for simulator loops and tools, in-process
 * (inference runs in a worker thread; onnxruntime-node is loaded only when a runtime opens).
 * Model folders are described in models/README.md.
 */
export {
  BackboneRuntime, DEFAULT_MAX_IMAGE_BYTES,
  type BackboneAnswerResult, type CameraImage, type FrameTiming, type ModelSource, type OpenOptions, type RuntimeInfo, type RuntimeStats,
} from "./backbone_runtime.js";
export { readModelFolder, writeModelFolder, initModelFolder, type ModelFolder, type ModelFolderContents } from "./model_folder.js";
export { TINY_CONFIG, backboneSizes, parseBackboneConfig, type BackboneConfig, type BackboneSizes } from "../../src/backbone/config.js";
export { expectedTensors, parameterCount, type TensorSpec, type Weights } from "../../src/backbone/tensor_names.js";
export { parseSafetensors, writeSafetensors } from "../../src/backbone/safetensors.js";
export { BackboneTokenizer } from "../../src/backbone/tokenizer.js";
export { randomWeights } from "../../src/backbone/random_init.js";
