import { InvalidInputError } from "../errors.js";
import type { ClockEstimate } from "../mocap/clock_sync.js";

/**
 * An episode's metadata, written as one MCAP Metadata record named "episode" (string → string,
 * the form MCAP readers show): what was asked (task), who did it (operator), with which scene
 * (seed), how the sensors were calibrated, how the mocap device clock maps onto the host clock
 * the file's log times use, when the episode started and what wrote it.
 */
export interface EpisodeMetadata {
  task: string;
  operator: string;
  /** Scene or simulator seed; null when there is none. A uint64, as RecorderControl.seed. */
  seed: bigint | null;
  /** Calibration identifier or document (free text, JSON welcome); "" when none. */
  calibration: string;
  /** Host time = device time + offset, in ns, as the ingest estimated it at the start; null when unknown. */
  clockOffsetNs: bigint | null;
  /** The device clock's drift against the host's, in parts per million; null when unknown. */
  clockDriftPpm: number | null;
  /** Wall-clock time the episode started, ns since the epoch. */
  startWallTimeNs: bigint;
  /** "spatial-reward <version>". */
  softwareVersion: string;
  /** Further string entries (their keys must not be the ones above). */
  extra: Readonly<Record<string, string>>;
}

export const EPISODE_METADATA_NAME = "episode";
/** Longest value accepted (a calibration document of a few kB is usual). */
export const MAX_METADATA_VALUE = 64 * 1024;
export const MAX_METADATA_ENTRIES = 256;
const UINT64_MAX = (1n << 64n) - 1n;
const RESERVED = [
  "task", "operator", "seed", "calibration", "clock_offset_ns", "clock_drift_ppm", "start_wall_time", "start_wall_time_ns", "software_version",
] as const;

function text(key: string, value: unknown): string {
  if (typeof value !== "string") throw new InvalidInputError("bad_argument", `episode metadata ${key} must be a string, got ${typeof value}`);
  if (value.length > MAX_METADATA_VALUE) throw new InvalidInputError("input_too_long", `episode metadata ${key} is ${value.length} characters; at most ${MAX_METADATA_VALUE} are accepted`);
  return value;
}

/** A seed as given (number or bigint) → a uint64, or a typed error. */
export function seedValue(seed: unknown): bigint | null {
  if (seed === null || seed === undefined) return null;
  if (typeof seed === "number") {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new InvalidInputError("bad_argument", `seed must be a non-negative integer, got ${seed}`);
    return BigInt(seed);
  }
  if (typeof seed === "bigint") {
    if (seed < 0n || seed > UINT64_MAX) throw new InvalidInputError("bad_argument", `seed must be a uint64, got ${seed}`);
    return seed;
  }
  throw new InvalidInputError("bad_argument", `seed must be an integer, got ${typeof seed}`);
}

/**
 * The seed field of RecorderControl (msg and protobuf) and RecordEpisode: a uint64 where 0
 * means "none given" (neither format can say null). Every control path maps it here so an
 * episode started without a seed records none rather than "0".
 */
export function controlSeed(seed: bigint | number): bigint | null {
  const value = seedValue(seed);
  return value === 0n ? null : value;
}

/** The metadata record's entries; throws InvalidInputError on a value that cannot be written. */
export function episodeMetadataEntries(meta: EpisodeMetadata): Map<string, string> {
  const out = new Map<string, string>();
  out.set("task", text("task", meta.task));
  out.set("operator", text("operator", meta.operator));
  const seed = seedValue(meta.seed);
  out.set("seed", seed === null ? "" : seed.toString());
  out.set("calibration", text("calibration", meta.calibration));
  if (meta.clockOffsetNs !== null && typeof meta.clockOffsetNs !== "bigint") throw new InvalidInputError("bad_argument", "clockOffsetNs must be a bigint or null");
  out.set("clock_offset_ns", meta.clockOffsetNs === null ? "" : meta.clockOffsetNs.toString());
  if (meta.clockDriftPpm !== null && !Number.isFinite(meta.clockDriftPpm)) throw new InvalidInputError("bad_argument", `clockDriftPpm must be finite or null, got ${meta.clockDriftPpm}`);
  out.set("clock_drift_ppm", meta.clockDriftPpm === null ? "" : String(meta.clockDriftPpm));
  if (typeof meta.startWallTimeNs !== "bigint" || meta.startWallTimeNs < 0n) throw new InvalidInputError("bad_argument", "startWallTimeNs must be a non-negative bigint");
  out.set("start_wall_time", new Date(Number(meta.startWallTimeNs / 1_000_000n)).toISOString());
  out.set("start_wall_time_ns", meta.startWallTimeNs.toString());
  out.set("software_version", text("software_version", meta.softwareVersion));
  const extra = Object.entries(meta.extra ?? {});
  if (extra.length + out.size > MAX_METADATA_ENTRIES) throw new InvalidInputError("input_too_long", `episode metadata has ${extra.length + out.size} entries; at most ${MAX_METADATA_ENTRIES} are accepted`);
  for (const [k, v] of extra) {
    if (k === "" || k.length > 256) throw new InvalidInputError("bad_argument", `episode metadata keys must be 1–256 characters, got ${k.length}`);
    if ((RESERVED as readonly string[]).includes(k)) throw new InvalidInputError("bad_argument", `episode metadata key ${k} is reserved`);
    out.set(k, text(k, v));
  }
  return out;
}

/**
 * The entries of an "episode" record read back. Lenient about what is missing (a file written
 * by another tool), strict about what is malformed: a seed or offset that is not an integer is
 * a typed error rather than a wrong number.
 */
export function parseEpisodeMetadata(entries: ReadonlyMap<string, string>): EpisodeMetadata {
  const get = (k: string) => entries.get(k) ?? "";
  const integer = (k: string, min: bigint, max: bigint): bigint | null => {
    const v = get(k);
    if (v === "") return null;
    if (!/^-?\d{1,20}$/.test(v)) throw new InvalidInputError("bad_message", `episode metadata ${k} is not an integer: ${JSON.stringify(v.slice(0, 40))}`);
    const n = BigInt(v);
    if (n < min || n > max) throw new InvalidInputError("bad_message", `episode metadata ${k} is out of range: ${v}`);
    return n;
  };
  const drift = get("clock_drift_ppm");
  const driftPpm = drift === "" ? null : Number(drift);
  if (driftPpm !== null && !Number.isFinite(driftPpm)) throw new InvalidInputError("bad_message", `episode metadata clock_drift_ppm is not a number: ${JSON.stringify(drift.slice(0, 40))}`);
  const extra: Record<string, string> = {};
  for (const [k, v] of entries) if (!(RESERVED as readonly string[]).includes(k)) extra[k] = v;
  return {
    task: get("task"),
    operator: get("operator"),
    seed: integer("seed", 0n, UINT64_MAX),
    calibration: get("calibration"),
    clockOffsetNs: integer("clock_offset_ns", -(1n << 63n), (1n << 63n) - 1n),
    clockDriftPpm: driftPpm,
    startWallTimeNs: integer("start_wall_time_ns", 0n, UINT64_MAX) ?? 0n,
    softwareVersion: get("software_version"),
    extra,
  };
}

/**
 * The Metadata record the recorder writes when an episode's file is closed, named
 * "episode_end": when it ended, and each mocap stream's device → host clock estimate then (the
 * "episode" record has the estimate at the start, which is empty when the stream had not begun;
 * the final one, fitted over the whole episode, is the one to map device stamps with).
 * Entries: end_wall_time (ISO), end_wall_time_ns, and per stream clock/<stream>/<field> for
 * offset_ns, drift_ppm, residual_ns, samples, resets, congestions (src/mocap/clock_sync.ts).
 */
export interface EpisodeEndMetadata {
  endWallTimeNs: bigint;
  /** By stream id (the MQTT topic level: no "/"). */
  clocks: Readonly<Record<string, ClockEstimate>>;
}

export const EPISODE_END_METADATA_NAME = "episode_end";
const CLOCK_FIELDS = ["offset_ns", "drift_ppm", "residual_ns", "samples", "resets", "congestions"] as const;

/** The "episode_end" record's entries; throws InvalidInputError on a value that cannot be written. */
export function episodeEndEntries(end: EpisodeEndMetadata): Map<string, string> {
  if (typeof end.endWallTimeNs !== "bigint" || end.endWallTimeNs < 0n) throw new InvalidInputError("bad_argument", "endWallTimeNs must be a non-negative bigint");
  const out = new Map<string, string>();
  out.set("end_wall_time", new Date(Number(end.endWallTimeNs / 1_000_000n)).toISOString());
  out.set("end_wall_time_ns", end.endWallTimeNs.toString());
  const streams = Object.entries(end.clocks);
  if (streams.length * CLOCK_FIELDS.length + out.size > MAX_METADATA_ENTRIES) throw new InvalidInputError("input_too_long", `${streams.length} mocap streams are too many for the episode_end record`);
  for (const [stream, c] of streams) {
    if (stream === "" || stream.length > 256 || stream.includes("/")) throw new InvalidInputError("bad_argument", `a mocap stream id must be 1–256 characters without "/", got ${JSON.stringify(stream.slice(0, 60))}`);
    if (typeof c.offset_ns !== "bigint") throw new InvalidInputError("bad_argument", `clock of stream ${stream}: offset_ns must be a bigint`);
    for (const k of ["drift_ppm", "residual_ns", "samples", "resets", "congestions"] as const) {
      if (!Number.isFinite(c[k])) throw new InvalidInputError("bad_argument", `clock of stream ${stream}: ${k} must be finite, got ${c[k]}`);
    }
    for (const k of CLOCK_FIELDS) out.set(`clock/${stream}/${k}`, String(c[k]));
  }
  return out;
}

/** The entries of an "episode_end" record read back (a field missing or malformed is a typed error). */
export function parseEpisodeEndMetadata(entries: ReadonlyMap<string, string>): EpisodeEndMetadata {
  const endNs = entries.get("end_wall_time_ns") ?? "";
  if (!/^\d{1,20}$/.test(endNs)) throw new InvalidInputError("bad_message", `episode_end end_wall_time_ns is not an integer: ${JSON.stringify(endNs.slice(0, 40))}`);
  const fields = new Map<string, Map<string, string>>();
  for (const [k, v] of entries) {
    const m = /^clock\/([^/]+)\/([a-z_]+)$/.exec(k);
    if (!m) continue;
    if (!fields.has(m[1])) fields.set(m[1], new Map());
    fields.get(m[1])!.set(m[2], v);
  }
  const clocks: Record<string, ClockEstimate> = {};
  for (const [stream, f] of fields) {
    const num = (k: string): number => {
      const v = Number(f.get(k) ?? "");
      if (f.get(k) === undefined || f.get(k) === "" || !Number.isFinite(v)) throw new InvalidInputError("bad_message", `episode_end clock/${stream}/${k} is not a number: ${JSON.stringify((f.get(k) ?? "").slice(0, 40))}`);
      return v;
    };
    const offset = f.get("offset_ns") ?? "";
    if (!/^-?\d{1,20}$/.test(offset)) throw new InvalidInputError("bad_message", `episode_end clock/${stream}/offset_ns is not an integer: ${JSON.stringify(offset.slice(0, 40))}`);
    clocks[stream] = {
      offset_ns: BigInt(offset), drift_ppm: num("drift_ppm"), residual_ns: num("residual_ns"), samples: num("samples"), resets: num("resets"), congestions: num("congestions"),
    };
  }
  return { endWallTimeNs: BigInt(endNs), clocks };
}
