/**
 * `spatial-reward/native`: whether the native kernels run in this process, and if not why
 * (in-process users log it next to their frame rates). The kernels themselves are used through
 * the library's own classes (the simulator's Renderer; Perception with `perceptionKernels()`).
 */
export { nativeKernelsStatus, kernelsAddonPath, type NativeKernelsStatus } from "./kernels_addon.js";
// For in-process users: `new Perception({ kernels: perceptionKernels() })` runs the C++ kernels
// where the addon is built (the same results bit for bit), else the TypeScript ones.
// `nativePerceptionKernels({ threads: 2 })` lets measureObjects share a frame's objects with the
// addon's helper thread for that Perception (SPATIAL_REWARD_NATIVE_THREADS=2 for the process).
export {
  perceptionKernels, nativePerceptionKernels, nativePerceptionStatus, type NativePerceptionStatus, type NativePerceptionOptions,
} from "../perception/native_perception_kernels.js";
