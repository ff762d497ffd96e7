import { InvalidInputError } from "../../src/errors.js";
import type { PreprocessKernel } from "../../src/backbone/image_preprocess.js";
import { kernelFamily } from "../native/kernels_addon.js";

/**
 * The native image preprocess kernel (kernels addon family "image_preprocess",
 * native/src/kernels/image_preprocess.cc) for ImagePreprocessor, or null where the addon is not
 * built, lacks it, or SPATIAL_REWARD_NATIVE=0: then the TypeScript resize runs (same patches,
 * slower; the loader warns once when the addon cannot load).
 */
export function nativePreprocessKernel(): PreprocessKernel | null {
  const family = kernelFamily<PreprocessKernel>("image_preprocess", ["resizeToPatches"]);
  if (!family) return null;
  const resize = family.resizeToPatches;
  return {
    resizeToPatches(...args) {
      try {
        resize(...args);
      } catch (e) {
        // Arguments the kernel refused (the TS checks come first, so this is a bug, not a bad frame).
        if (e instanceof TypeError || e instanceof RangeError) throw new InvalidInputError("bad_argument", `native image preprocess kernel: ${e.message}`);
        throw e;
      }
    },
  };
}
