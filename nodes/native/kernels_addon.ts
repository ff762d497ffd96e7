import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, sep } from "node:path";
import { packageRoot } from "../../src/transport/dds/native_binding.js";

/**
 * The native kernels addon (native/src/kernels/, target spatial_reward_kernels), loaded once
 * at the edge: src/ stays pure and never loads it. Every kernel has a TypeScript reference
 * implementation that is also the fallback, so a missing addon costs speed, never function:
 * the loader warns once (what is missing, how to build it) and callers take the TS path.
 *
 * Environment:
 * - SPATIAL_REWARD_NATIVE=0 forces the TypeScript path (side-by-side benchmarks, tests), silently.
 * - SPATIAL_REWARD_KERNELS_ADDON=/path/to/spatial_reward_kernels.node loads that file instead.
 * - SPATIAL_REWARD_NATIVE_THREADS=2 lets measureObjects use the addon's helper thread (nativeThreads()).
 */

/** The raw addon: `families` lists the kernel families it was built with; the rest are kernel functions. */
export interface KernelsAddon {
  readonly families: readonly string[];
  readonly [name: string]: unknown;
}

export interface NativeKernelsStatus {
  /** True when the addon is loaded and kernels run natively. */
  readonly loaded: boolean;
  /** The addon file that was (or would have been) loaded. */
  readonly path?: string;
  /** Kernel families the loaded addon holds. */
  readonly families: readonly string[];
  /** Why the TypeScript path is used, when it is. */
  readonly reason?: string;
}

const ADDON = join("native", "build", "Release", "spatial_reward_kernels.node");

/** Where the addon is expected (SPATIAL_REWARD_KERNELS_ADDON overrides), whether or not it exists. */
export function kernelsAddonPath(): string | undefined {
  const explicit = process.env.SPATIAL_REWARD_KERNELS_ADDON;
  if (explicit) return explicit;
  const root = packageRoot();
  return root ? join(root, ADDON) : undefined;
}

/** True when SPATIAL_REWARD_NATIVE=0 asks for the TypeScript kernels. */
export function nativeDisabled(): boolean {
  return process.env.SPATIAL_REWARD_NATIVE === "0";
}

/**
 * How many threads a native kernel may use within one call: SPATIAL_REWARD_NATIVE_THREADS, 1 or
 * 2 (unset: 1). With 2, measureObjects shares a frame's objects with one helper thread of the
 * addon (none where the process may use only one CPU or the thread cannot be created): ~0.1 ms
 * less latency a frame for ~0.2 ms more CPU (the helper spins for frames it expects), which a
 * camera at 30 Hz does not gain from, so it is asked for, not the default. Read on every call, so
 * a test or bench can switch it; any other value is warned about once and the default used.
 */
export function nativeThreads(): 1 | 2 {
  const v = process.env.SPATIAL_REWARD_NATIVE_THREADS;
  if (v === undefined || v === "" || v === "1") return 1;
  if (v === "2") return 2;
  warnOnce(`threads:${v}`, `spatial-reward: SPATIAL_REWARD_NATIVE_THREADS=${JSON.stringify(v)} is not 1 or 2; using the default (1)`);
  return 1;
}

function rebuildHint(): string {
  // Installed as a dependency, npm hides the install script's output and `npm run build:native`
  // does not exist for the user: npm rebuild runs the install script again.
  const asDependency = (packageRoot() ?? "").split(sep).includes("node_modules");
  return asDependency
    ? "`npm rebuild spatial-reward` (newer npm first asks to approve the install script: `npm install-scripts approve spatial-reward`)"
    : "`npm run build:native`";
}

let loadedAddon: KernelsAddon | null | undefined;
let status: NativeKernelsStatus = { loaded: false, families: [] };
const warned = new Set<string>();

/** Emits `message` once per process and `key` (a process warning: stderr, never stdout). */
function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  process.emitWarning(message, { code: "SPATIAL_REWARD_NATIVE_KERNELS" });
}

function isKernelsAddon(m: unknown): m is KernelsAddon {
  if (m === null || typeof m !== "object") return false;
  const families = (m as { families?: unknown }).families;
  return Array.isArray(families) && families.every((f) => typeof f === "string");
}

/**
 * The raw addon module, or null (TypeScript path). Loaded on first call and cached; when it
 * cannot load, one warning says what is missing and how to build it. SPATIAL_REWARD_NATIVE=0
 * gives null without a warning (read on every call, so a test or bench can switch it).
 */
export function loadKernelsAddon(): KernelsAddon | null {
  if (nativeDisabled()) return null;
  if (loadedAddon !== undefined) return loadedAddon;
  const path = kernelsAddonPath();
  let reason: string;
  if (!path) reason = "the package root (native/binding.gyp) was not found";
  else if (!existsSync(path)) reason = `${path} was not built`;
  else {
    try {
      const m: unknown = createRequire(import.meta.url)(path);
      if (isKernelsAddon(m)) {
        loadedAddon = m;
        status = { loaded: true, path, families: [...m.families] };
        return m;
      }
      reason = `${path} is not the spatial-reward kernels addon (no families list)`;
    } catch (e) {
      reason = `${path} failed to load: ${(e as Error).message}`;
    }
  }
  loadedAddon = null;
  status = { loaded: false, ...(path ? { path } : {}), families: [], reason };
  warnOnce("addon",
    `spatial-reward: native kernels unavailable (${reason}); running the TypeScript kernels instead (same results, ` +
    `slower per frame). They need a C++17 compiler, make and Python 3 (node-gyp); build them with ${rebuildHint()}. ` +
    "Set SPATIAL_REWARD_NATIVE=0 to choose the TypeScript kernels without this warning.");
  return null;
}

/**
 * One kernel family's functions from the addon, or null (TypeScript path). Each family's
 * wrapper names the functions it calls; an addon built from older sources that lacks one is
 * reported once for that family, and only that family falls back.
 */
export function kernelFamily<T extends object>(family: string, functions: readonly (keyof T & string)[]): T | null {
  const addon = loadKernelsAddon();
  if (!addon) return null;
  const missing = functions.filter((f) => typeof addon[f] !== "function");
  if (missing.length === 0) return addon as unknown as T;
  warnOnce(`family:${family}`,
    `spatial-reward: the native kernels addon (${status.path ?? "?"}) has no ${missing.join(", ")} (built from older sources?); ` +
    `the ${family} kernels run in TypeScript. Rebuild with ${rebuildHint()}.`);
  return null;
}

/**
 * A family whose functions exist but that its wrapper cannot use (built from other sources:
 * another data layout): said once, and that family runs in TypeScript.
 */
export function reportUnusableFamily(family: string, why: string): void {
  warnOnce(`family:${family}`,
    `spatial-reward: the native ${family} kernels in ${status.path ?? "?"} cannot be used (${why}; built from other sources?); ` +
    `they run in TypeScript. Rebuild with ${rebuildHint()}.`);
}

/** Whether native kernels run here, and if not why (after the first load attempt; loads if none was made). */
export function nativeKernelsStatus(): NativeKernelsStatus {
  if (nativeDisabled()) return { loaded: false, families: [], reason: "SPATIAL_REWARD_NATIVE=0" };
  loadKernelsAddon();
  return status;
}
