import { createRequire } from "node:module";
import { SpatialRewardError } from "../../src/errors.js";

/**
 * onnxruntime-node is an optional dependency (simulator and engine users never load it, and its
 * install may be skipped where it cannot run). Callers check here before anything imports it, so
 * its absence is a typed `backend_unavailable` saying how to install it, not a worker crash or a
 * raw ERR_MODULE_NOT_FOUND. Resolving loads nothing.
 */
export function missingInferenceBackend(): SpatialRewardError | null {
  try {
    createRequire(import.meta.url).resolve("onnxruntime-node");
    return null;
  } catch {
    return new SpatialRewardError(
      "backend_unavailable",
      "the backbone needs onnxruntime-node, which is not installed: npm install onnxruntime-node " +
        "(ONNXRUNTIME_NODE_INSTALL=skip keeps its installer from fetching CUDA libraries; the CPU build is in the package)",
    );
  }
}
