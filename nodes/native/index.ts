/**
 * `spatial-reward/native`: whether the native kernels run in this process, and if not why
 * (in-process users log it next to their frame rates). The kernels themselves are used through
 * the library's own classes (the simulator's Renderer, perception), never called directly.
 */
export { nativeKernelsStatus, kernelsAddonPath, type NativeKernelsStatus } from "./kernels_addon.js";
