import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { SpatialRewardError } from "../../errors.js";
import type { QoS } from "../qos.js";

/** A remote or local DDS endpoint seen by discovery. */
export interface EndpointEvent {
  /** DDS topic name ("rt/camera/color/image_raw"). */
  readonly topic: string;
  /** DDS type name ("sensor_msgs::msg::dds_::Image_"). */
  readonly type: string;
  /** Endpoint GUID, hex. */
  readonly key: string;
  /** GUID of the participant owning it, hex. */
  readonly participant: string;
  /** False when the endpoint went away (deleted, or its participant lost). */
  readonly alive: boolean;
}

export interface ReaderStats {
  /** Samples taken from DDS. */
  readonly received: number;
  /** Samples pushed out of the bounded (KEEP_LAST depth) queue before JS took them. */
  readonly dropped: number;
  readonly queued: number;
  /**
   * DDS SAMPLE_LOST status (best-effort gaps, fragments never completed) plus shmLost.
   */
  readonly lost: number;
  /**
   * Over shared memory: times iceoryx's queue for this reader overflowed (its oldest chunks
   * evicted before Cyclone's receive thread took them; at least one sample each). Cyclone 0.10
   * counts none of these itself.
   */
  readonly shmLost: number;
  /** DDS SAMPLE_REJECTED status (resource limits). */
  readonly rejected: number;
  /** Writers currently matched. */
  readonly matched: number;
}

/** A writer's QoS; `lifespanMs` (optional) drops samples older than that from its history. */
export type WriterQoS = QoS & { readonly lifespanMs?: number };

/** The native Cyclone DDS binding (native/src/addon.cc). Entities are Cyclone handles. */
export interface DdsBinding {
  version(): string;
  /**
   * With `config`, the domain is created with it (Cyclone's comma-separated XML fragments and
   * file URIs; CYCLONEDDS_URI is then not read) unless this process already created it with the
   * same config; a different one is an error. It is deleted with its last participant.
   */
  createParticipant(domainId?: number, config?: string): number;
  createTopic(participant: number, name: string, typeName: string): number;
  createWriter(participant: number, topic: number, qos: WriterQoS): number;
  /**
   * `callback` gets batches of CDR samples (encapsulation header included, each starting 4 bytes
   * into an 8-aligned ArrayBuffer so the CDR body's arrays can be viewed in place), the running
   * drop count and the DDS SAMPLE_LOST total. `views` and `leases` are reused between batches:
   * read them during the call only. A sample is given (its view owns it; leases[i] is 0) unless
   * the reader lends (`options.lend`) and the sample is large: then leases[i] is nonzero and its
   * view shows a pooled slot, or the shared-memory (iceoryx) chunk the sample came in, reused
   * for another sample once releaseSample(leases[i]) is called (a chunk also once the reader is
   * deleted: its iceoryx subscriber goes with it). bodyOnly[i] is 1 for such a
   * chunk (lent only): the chunk holds the CDR body alone, and the view starts 4 bytes before
   * it, so those 4 bytes are not a header (decode with the header implied: plain CDR, this
   * host's byte order); 0 for every sample with its header. A chunk may be read by other
   * processes' readers too: a lent sample is never written to. `shmRefused` is process-wide,
   * not this reader's: the chunks none of the process's readers got so far (lying chunk
   * headers, another chunk-header version, a writer Cyclone does not know: a hostile or foreign
   * writer on the host's RouDi; native/src/iox_take_guard.c, iox_errors.h).
   */
  createReader(
    participant: number,
    topic: number,
    qos: QoS,
    callback: (views: Uint8Array[], dropped: number, lost: number, leases: Float64Array, bodyOnly: Uint8Array, shmRefused: number) => void,
    options?: { readonly lend?: boolean },
  ): number;
  /** Returns a lent sample; false if the lease is unknown or was already returned. */
  releaseSample(lease: number): boolean;
  /** The pooled sample memory (see native/src/sample_pool.h) and the leases outstanding. */
  poolStats(): PoolStats;
  /**
   * Adds `count` (0..64) free pool slots of fresh memory for samples of `sampleBytes` (pages
   * touched), so a stream's first frames find memory ready; returns how many were added (fewer:
   * pool full, or a size outside the pool's 64 KiB..1 GiB).
   */
  poolReserve(sampleBytes: number, count: number): number;
  write(writer: number, cdr: Uint8Array): void;
  publicationMatched(writer: number): number;
  readerStats(reader: number): ReaderStats;
  watchEndpoints(participant: number, kind: "publication" | "subscription", callback: (events: EndpointEvent[]) => void): number;
  participantGuid(participant: number): string;
  /** The DDS GUID (16 bytes, hex) of a participant, reader or writer: discovery's `key`. */
  entityGuid(entity: number): string;
  deleteEntity(entity: number): void;
  /** CPU time of the calling thread, ms (per-stage CPU accounting that load does not inflate). */
  threadCpuMs(): number;
  /** Entities the binding still tracks; all zero once every transport shut down. */
  liveHandles(): { writers: number; topics: number; readers: number; watchers: number; domains: number; leases: number };
}

export interface PoolStats {
  /** Slots in the pool, in use or free, and their capacity in bytes. */
  readonly slots: number;
  readonly inUse: number;
  readonly bytes: number;
  readonly freeBytes: number;
  /** Samples given pooled memory, of them from a free slot, and left to the heap (pool full). */
  readonly acquired: number;
  readonly reused: number;
  readonly refused: number;
  /** Slots trimmed away (more free memory than the pool keeps). */
  readonly retired: number;
  /** Lent samples not yet released. */
  readonly leases: number;
  /**
   * Samples received over shared memory (process-wide, all readers): left in their iceoryx
   * chunk (large ones; lent in place or copied on the JS thread), and copied out of it when
   * they arrived (small ones).
   */
  readonly shmInPlace: number;
  readonly shmCopied: number;
  /**
   * iceoryx subscribers (of live or deleted readers) with samples received through them still
   * alive (queued or lent): 0 once every such sample was released.
   */
  readonly shmSubscribers: number;
  /** Samples received over shared memory that still hold their iceoryx chunk (queued or lent in place). */
  readonly shmChunksHeld: number;
  /** ArrayBuffers made for shared-memory chunks lent in place (one per chunk and reader, reused). */
  readonly chunkBuffers: number;
}

const ADDON = join("native", "build", "Release", "spatial_reward_dds.node");

/**
 * The package root: the first ancestor holding native/binding.gyp (works from src/ and dist/src/).
 * The native addons' loaders share it (nodes/native/kernels_addon.ts imports it: src/ cannot import from nodes/).
 */
export function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "native", "binding.gyp"))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Where the addon is (SPATIAL_REWARD_DDS_ADDON overrides), or undefined if it was not built. */
export function ddsAddonPath(): string | undefined {
  const explicit = process.env.SPATIAL_REWARD_DDS_ADDON;
  if (explicit) return existsSync(explicit) ? explicit : undefined;
  const root = packageRoot();
  const path = root ? join(root, ADDON) : undefined;
  return path && existsSync(path) ? path : undefined;
}

let cached: DdsBinding | undefined;

/**
 * Loads the addon on first use, so hosts without Cyclone DDS can install and run the other
 * backends. A missing or unloadable addon is a typed error saying how to get it.
 */
export function loadDdsBinding(): DdsBinding {
  if (cached) return cached;
  const path = ddsAddonPath();
  if (!path) {
    // Installed as a dependency, npm hides the install script's output: this is the only message
    // a user sees, so it names the command that exists there.
    const asDependency = (packageRoot() ?? "").split(sep).includes("node_modules");
    const rebuild = asDependency
      ? "`npm rebuild spatial-reward` (newer npm first asks to approve the install script: `npm install-scripts approve spatial-reward`)"
      : "`npm run build:native`";
    throw new SpatialRewardError(
      "backend_unavailable",
      `the dds backend is not built: install Cyclone DDS (Debian/Ubuntu: apt install cyclonedds-dev; on a ROS 2 host set CYCLONEDDS_HOME=/opt/ros/$ROS_DISTRO) and run ${rebuild}`,
    );
  }
  try {
    cached = createRequire(import.meta.url)(path) as DdsBinding;
  } catch (e) {
    throw new SpatialRewardError("backend_unavailable", `the dds backend at ${path} failed to load: ${(e as Error).message}`);
  }
  return cached;
}
