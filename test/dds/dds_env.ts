import { fileURLToPath } from "node:url";
import { ddsAddonPath } from "../../src/transport/dds/native_binding.js";

/**
 * DDS tests run where the addon was built. In CI (CI=true) or with SPATIAL_REWARD_REQUIRE_DDS=1
 * a missing addon fails them instead of skipping, so a broken build cannot pass unnoticed.
 */
export const DDS_AVAILABLE = ddsAddonPath() !== undefined;
export const DDS_REQUIRED = process.env.CI === "true" || process.env.SPATIAL_REWARD_REQUIRE_DDS === "1";
/**
 * Fast DDS (only for the interop peer that is not Cyclone) is optional: its test skips, saying
 * why, where Fast DDS is not installed. SPATIAL_REWARD_REQUIRE_FASTDDS=1 (CI) makes that a failure.
 */
export const FASTDDS_REQUIRED = process.env.SPATIAL_REWARD_REQUIRE_FASTDDS === "1";

/** Loopback-only Cyclone config (unicast discovery to 127.0.0.1): nothing leaves the machine. */
export const LOOPBACK_CONFIG = fileURLToPath(new URL("./cyclone_loopback.xml", import.meta.url));

export function useLoopbackDds(): void {
  process.env.CYCLONEDDS_URI = `file://${LOOPBACK_CONFIG}`;
}

/** Resolves when `cond` holds, or rejects after `ms` naming what was awaited. */
export async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
