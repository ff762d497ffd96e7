import { existsSync } from "node:fs";
import { kernelsAddonPath } from "../../nodes/native/kernels_addon.js";

/**
 * Tests of the native kernels run where the addon was built. With SPATIAL_REWARD_REQUIRE_NATIVE=1
 * (CI sets it) a missing addon fails them instead of skipping, so a broken build cannot pass unnoticed.
 */
export const NATIVE_REQUIRED = process.env.SPATIAL_REWARD_REQUIRE_NATIVE === "1";
const path = kernelsAddonPath();
export const NATIVE_BUILT = path !== undefined && existsSync(path);
/** Run the tests that need the addon: it is built, or it must be. */
export const NATIVE_TESTS = NATIVE_BUILT || NATIVE_REQUIRED;
