import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Subscription, TransportNode } from "../src/transport/port.js";
import { QOS_LATCHED, type QoS } from "../src/transport/qos.js";
import { codecFor, type AnyCodec } from "../src/transport/dds/codec_cache.js";
import { Counters } from "../src/diagnostics/counters.js";
import { InvalidInputError, SpatialRewardError } from "../src/errors.js";
import { stampFromRos } from "../src/time/ros_time.js";
import { checkChannelPlans, rosChannel, type ChannelPlan } from "../src/record/channel_plan.js";
import {
  controlSeed, EPISODE_END_METADATA_NAME, episodeEndEntries, seedValue, type EpisodeMetadata,
} from "../src/record/episode_metadata.js";
import type { ClockEstimate } from "../src/mocap/clock_sync.js";
import { DEFAULT_RECORDED_TOPICS, parseTopicList, type TopicQos } from "../src/record/topic_list.js";
import { RecordingWriteError } from "../src/record/recording_errors.js";
import type * as M from "../src/msgs/generated.js";
import { RecordEpisode_RequestCommand, RecorderControlCommand } from "../src/msgs/generated.js";
import { COMPRESSIONS, DEFAULT_ZSTD_LEVEL, type Compression } from "./recorder/chunk_compression.js";
import {
  DEFAULT_CHUNK_SIZE, EpisodeWriter, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, SYNC_POLICIES,
  type EpisodeResult, type EpisodeWriterOptions, type SyncPolicy,
} from "./recorder/episode_writer.js";
import { clip } from "./error_reporter.js";
import { DiagnosticsPublisher, DIAGNOSTIC_LEVEL } from "./diagnostics_publisher.js";
import { RosClock } from "./ros_clock.js";
import { T } from "./messages.js";
import { MqttRecorderControl, readRecorderControlParameters } from "./mqtt/recorder_control.js";
import { anchoredNowNs, wallClockAnchor, type WallClockAnchor } from "./mocap/wall_clock_anchor.js";
import { packageVersion } from "./cli/package_version.js";

/** What starts an episode: from the record_episode service, recorder/control, MQTT control or code. */
export interface EpisodeRequest {
  task: string;
  operator: string;
  seed?: bigint | number | null;
  /** Overrides the node's `calibration` parameter for this episode. */
  calibration?: string;
  extra?: Readonly<Record<string, string>>;
}

export interface RecorderOptions {
  /**
   * Channels fed by recordRaw() rather than the transport: mocap frames as protobuf
   * (protobufChannel("mocap/frames", "spatial_reward.mocap.MocapFrame", mocapFileDescriptorSet())),
   * JSON side channels. Registered in every episode.
   */
  extraChannels?: readonly ChannelPlan[];
  /** The mocap ingest's current device-to-host clock estimate, written into each episode's metadata. */
  clockOffset?: () => { offsetNs: bigint; driftPpm: number | null } | null;
  /** Each mocap stream's clock estimate, written into the episode_end record when an episode's file is closed. */
  clockEstimates?: () => Readonly<Record<string, ClockEstimate>>;
  softwareVersion?: string;
  /** Writer options the parameters do not cover (tests inject a failing writable here). */
  writer?: Pick<EpisodeWriterOptions, "openWritable">;
}

interface Episode {
  writer: EpisodeWriter;
  /** Channel id by topic as subscribed (resolved name) and for extra channels as given. */
  channels: Map<string, number>;
}

interface RecordedSubscription {
  topic: string;
  type: string;
  codec: AnyCodec;
  sub: Subscription;
  /** A latched topic's last message (CDR), written first in every episode that starts after it. */
  latched: { data: Uint8Array; publishTime: bigint | undefined } | null;
  isLatched: boolean;
}

/** The QoS of each topic-list qos word: keep-all, so bursts are not dropped before they are recorded. */
function qosOf(q: TopicQos): QoS {
  if (q === "latched") return QOS_LATCHED;
  return { reliability: q === "best_effort" ? "best_effort" : "reliable", durability: "volatile", history: "keep_all", depth: 1000 };
}

/** A compact UTC time for file names: 2025-01-02T03-04-05-678Z. */
function fileStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/:/g, "-").replace(".", "-");
}

/**
 * Recorder node: writes episodes as MCAP files (nodes/recorder/episode_writer.ts). It subscribes
 * to the topics of its `topics` parameter ("topic:pkg/msg/Type[:reliable|best_effort|latched]",
 * default: the camera, scene, answer, reward, spec and /tf topics) for its whole life; while an
 * episode runs, every message is serialised to CDR with the repo's codec and written with the
 * node's time as log time and its header stamp (if any) as publish time. Messages between
 * episodes are counted as `idle_messages`, not written; those that arrive after a stop while
 * the file is being closed are dropped and counted (`dropped.recording`, the result's
 * `dropped`); the last message of a latched topic (the task's reward/spec) is kept and written
 * first in every episode that starts after it.
 *
 * Episodes start and stop through the `record_episode` service (RecordEpisode), the
 * `recorder/control` topic (RecorderControl), MQTT (RecorderControl protobuf on
 * `mqtt_control_topic`, "mocap/control", at `mqtt_control_broker` when that is set:
 * nodes/mqtt/recorder_control.ts), or start()/stop() from code. Each is a new file
 * `<output_dir>/<file_prefix>_<UTC time>.mcap` with the episode metadata (task, operator, seed,
 * calibration, clock offset, start time, software version) first and, when it is closed, an
 * "episode_end" record (end time, each mocap stream's final clock estimate). Parameters: topics,
 * output_dir ("episodes"), file_prefix ("episode"), chunk_size (4 MiB), compression (zstd | lz4
 * | none), zstd_level (1), fsync (close | chunk | none, see SyncPolicy), calibration (""),
 * max_queue_mb (256), and for MQTT control mqtt_control_broker ("" = none), mqtt_control_topic,
 * mqtt_client_id, mqtt_username, mqtt_password, mqtt_tls_* (as the ingest's),
 * mqtt_control_max_age_ms (10000) and mqtt_control_require_stamp (false): retained, old,
 * replayed or (when required) unstamped commands are ignored and counted (see
 * MqttRecorderControl). A bad value stops the node from starting.
 *
 * A write error (full disk...) ends the episode: counted, logged, ERROR on /diagnostics until
 * the next episode starts; the file keeps its complete chunks. shutdown() finishes the file.
 */
export class RecorderNode {
  readonly counters = new Counters();
  readonly diagnostics: DiagnosticsPublisher;
  private readonly subscriptions: RecordedSubscription[] = [];
  private readonly clock: RosClock;
  /** The wall clock read at the episode start (sub-ms, wall_clock_anchor.ts), and the monotonic clock then: log times are one plus the other's progress. */
  private anchor: WallClockAnchor = wallClockAnchor();
  private episode: Episode | null = null;
  /** Start and stop run one at a time, in the order asked. */
  private transition: Promise<unknown> = Promise.resolve();
  private scratch = new ArrayBuffer(64 * 1024);
  private readonly outputDir: string;
  private readonly prefix: string;
  private readonly writerOptions: EpisodeWriterOptions;
  private readonly calibration: string;
  private readonly softwareVersion: string;
  /** Episode control over MQTT, when mqtt_control_broker is set. */
  readonly mqttControl: MqttRecorderControl | null;

  constructor(readonly node: TransportNode, private readonly options: RecorderOptions = {}) {
    const entries = node.declareParameter("topics", [...DEFAULT_RECORDED_TOPICS]);
    const topics = parseTopicList(entries);
    this.outputDir = String(node.declareParameter("output_dir", "episodes"));
    if (this.outputDir.trim() === "") throw new InvalidInputError("bad_argument", "recorder: output_dir must name a directory");
    this.prefix = String(node.declareParameter("file_prefix", "episode"));
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(this.prefix)) throw new InvalidInputError("bad_argument", `recorder: file_prefix must be 1–64 of A-Z a-z 0-9 _ . -, got ${JSON.stringify(this.prefix.slice(0, 80))}`);
    const chunkSize = Number(node.declareParameter("chunk_size", DEFAULT_CHUNK_SIZE));
    if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
      throw new InvalidInputError("bad_argument", `recorder: chunk_size must be an integer from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE} bytes, got ${chunkSize}`);
    }
    const compression = String(node.declareParameter("compression", "zstd"));
    if (!(COMPRESSIONS as readonly string[]).includes(compression)) throw new InvalidInputError("bad_argument", `recorder: compression must be one of ${COMPRESSIONS.join(", ")}, got ${JSON.stringify(compression)}`);
    const sync = String(node.declareParameter("fsync", "close"));
    if (!(SYNC_POLICIES as readonly string[]).includes(sync)) throw new InvalidInputError("bad_argument", `recorder: fsync must be one of ${SYNC_POLICIES.join(", ")}, got ${JSON.stringify(sync)}`);
    const zstdLevel = Number(node.declareParameter("zstd_level", DEFAULT_ZSTD_LEVEL));
    if (!Number.isInteger(zstdLevel) || zstdLevel < 1 || zstdLevel > 19) throw new InvalidInputError("bad_argument", `recorder: zstd_level must be an integer from 1 to 19, got ${zstdLevel}`);
    const queueMb = Number(node.declareParameter("max_queue_mb", 256));
    if (!Number.isFinite(queueMb) || queueMb < 1 || queueMb > 65536) throw new InvalidInputError("bad_argument", `recorder: max_queue_mb must be from 1 to 65536, got ${queueMb}`);
    this.calibration = String(node.declareParameter("calibration", ""));
    this.softwareVersion = options.softwareVersion ?? `spatial-reward ${packageVersion()}`;
    this.writerOptions = {
      chunkSize, compression: compression as Compression, zstdLevel, sync: sync as SyncPolicy, maxQueuedBytes: queueMb * (1 << 20),
      library: this.softwareVersion, ...options.writer,
    };
    const controlParameters = readRecorderControlParameters(node);
    // Unknown types fail here, before anything is created.
    for (const t of topics) rosChannel(t.topic, t.type);
    this.clock = new RosClock(node, (e) => this.diagnostics.errors.report(e, "/clock"));
    this.diagnostics = new DiagnosticsPublisher(node, "recorder", this.counters, this.clock);
    const errors = this.diagnostics.errors;
    for (const t of topics) {
      const codec = codecFor(t.type);
      const entry: RecordedSubscription = { topic: t.topic, type: t.type, codec, sub: null as unknown as Subscription, latched: null, isLatched: t.qos === "latched" };
      entry.sub = node.createSubscription<unknown>(t.type, t.topic, qosOf(t.qos), errors.guard(t.topic, (msg: unknown) => this.onMessage(entry, msg)));
      this.subscriptions.push(entry);
    }
    // Topics as resolved and extra channels must not collide: each topic is one channel.
    try {
      checkChannelPlans(this.plans());
    } catch (e) {
      for (const s of this.subscriptions) s.sub.destroy();
      throw e;
    }
    node.createService<M.spatial_reward_msgs__srv__RecordEpisode_Request, M.spatial_reward_msgs__srv__RecordEpisode_Response>(
      T.RecordEpisode, "record_episode", (req) => this.onServiceRequest(req),
    );
    node.createSubscription<M.spatial_reward_msgs__msg__RecorderControl>(
      T.RecorderControl, "recorder/control", { reliability: "reliable", durability: "volatile", history: "keep_all", depth: 100 },
      errors.guard("recorder/control", (m) => this.onControl(m)),
    );
    // Last: a node that failed to construct must leave no MQTT client behind.
    this.mqttControl = controlParameters
      ? new MqttRecorderControl(controlParameters, this, this.counters, (e, context) => errors.report(e, context), (m) => node.logger.info(m))
      : null;
  }

  /** True from an episode's start until its file is closed (messages arriving while it closes are counted as dropped). */
  get recording(): boolean {
    return this.episode !== null;
  }

  /** The file being written, or null between episodes. */
  get episodePath(): string | null {
    return this.episode?.writer.path ?? null;
  }

  /** Every episode's channels: the subscribed topics (resolved names), then the extra channels. */
  private plans(): ChannelPlan[] {
    return [...this.subscriptions.map((s) => rosChannel(s.sub.topic, s.type)), ...(this.options.extraChannels ?? [])];
  }

  /**
   * The ROS time log times use: sim time (/clock) with use_sim_time, else the wall clock at
   * sub-ms resolution (read at the episode start, advanced by the monotonic clock, so an NTP
   * step during an episode cannot reorder its log times).
   */
  now(): bigint {
    if (this.clock.useSimTime) return this.clock.now();
    return anchoredNowNs(this.anchor);
  }

  /** Starts an episode. Rejects (InvalidInputError bad_state) while one runs, and with RecordingWriteError if the file cannot be written. */
  start(request: EpisodeRequest): Promise<{ path: string }> {
    const run = this.transition.then(() => this.doStart(request));
    this.transition = run.catch(() => undefined);
    return run;
  }

  /** Ends the episode (summary, footer, sync). Resolves null when none runs. */
  stop(): Promise<EpisodeResult | null> {
    const run = this.transition.then(() => this.doStop());
    this.transition = run.catch(() => undefined);
    return run;
  }

  /** Disconnects MQTT control, finishes the episode if one runs and destroys the node's endpoints. */
  async shutdown(): Promise<EpisodeResult | null> {
    await this.mqttControl?.close();
    const result = await this.stop();
    this.node.destroy();
    return result;
  }

  /**
   * Writes raw bytes on an extra channel (options.extraChannels), e.g. a mocap frame's protobuf
   * bytes as they arrived. Returns false when no episode runs (counted as idle_messages) or the
   * message was refused (counted). `data` is borrowed (copied before this returns).
   */
  recordRaw(topic: string, data: Uint8Array, publishTimeNs?: bigint, sequence?: number): boolean {
    const ep = this.episode;
    if (!ep) {
      this.counters.inc("idle_messages");
      return false;
    }
    const id = ep.channels.get(topic);
    if (id === undefined) throw new InvalidInputError("bad_argument", `recorder: ${topic} is not a channel of this episode (extra channels: ${(this.options.extraChannels ?? []).map((c) => c.topic).join(", ") || "none"})`);
    const t = this.now();
    return this.written(ep.writer.write(id, t, data, publishTimeNs ?? t, sequence));
  }

  private written(ok: boolean): boolean {
    this.counters.inc(ok ? "recorded" : "dropped.recording");
    return ok;
  }

  private onMessage(entry: RecordedSubscription, msg: unknown): void {
    const ep = this.episode;
    if (!ep && !entry.isLatched) {
      this.counters.inc("idle_messages");
      return;
    }
    const t0 = performance.now();
    const t = this.now();
    let bytes: Uint8Array;
    try {
      const size = entry.codec.byteSize(msg);
      if (size > this.scratch.byteLength) this.scratch = new ArrayBuffer(Math.max(size, Math.ceil(this.scratch.byteLength * 1.5)));
      bytes = entry.codec.encode(msg, this.scratch);
    } catch (e) {
      this.counters.inc("dropped.unserialisable");
      throw new InvalidInputError("bad_message", `${entry.topic}: a ${entry.type} that cannot be serialised to CDR (${e instanceof Error ? e.message : String(e)})`);
    }
    // Latched state (the task's spec) outlives episodes: the last one opens every next episode.
    if (entry.isLatched) entry.latched = { data: bytes.slice(), publishTime: publishTimeOf(msg) };
    if (!ep) {
      this.counters.inc("idle_messages");
      return;
    }
    const id = ep.channels.get(entry.sub.topic);
    if (id === undefined) return;
    this.written(ep.writer.write(id, t, bytes, publishTimeOf(msg) ?? t));
    this.diagnostics.latency.add(performance.now() - t0);
  }

  private async doStart(request: EpisodeRequest): Promise<{ path: string }> {
    if (this.episode) throw new InvalidInputError("bad_state", `an episode is being recorded (${this.episode.writer.path}); stop it first`);
    // Anchored again at every start: a wall-clock step between episodes is taken up, none within one.
    const anchor = wallClockAnchor();
    const startMs = Number(anchor.wallNs / 1_000_000n);
    const offset = this.options.clockOffset?.() ?? null;
    const meta: EpisodeMetadata = {
      task: request.task, operator: request.operator, seed: seedValue(request.seed ?? null),
      calibration: request.calibration ?? this.calibration,
      clockOffsetNs: offset?.offsetNs ?? null, clockDriftPpm: offset?.driftPpm ?? null,
      startWallTimeNs: anchor.wallNs, softwareVersion: this.softwareVersion, extra: request.extra ?? {},
    };
    const plans = this.plans();
    this.anchor = anchor;
    try {
      mkdirSync(this.outputDir, { recursive: true });
    } catch (e) {
      throw new RecordingWriteError(`recorder: cannot create output_dir ${this.outputDir}: ${e instanceof Error ? e.message : String(e)}`, (e as NodeJS.ErrnoException).code);
    }
    let writer: EpisodeWriter | null = null;
    for (let attempt = 0; writer === null; attempt++) {
      const path = join(this.outputDir, `${this.prefix}_${fileStamp(startMs)}${attempt === 0 ? "" : `_${attempt}`}.mcap`);
      try {
        writer = await EpisodeWriter.create(path, plans, meta, this.writerOptions);
      } catch (e) {
        if (e instanceof RecordingWriteError && e.errno === "EEXIST" && attempt < 100) continue;
        throw e;
      }
    }
    const channels = new Map<string, number>();
    for (const p of plans) channels.set(p.topic, writer.channelId(p.topic)!);
    writer.onError = (e) => {
      this.diagnostics.errors.report(e, "episode");
      this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.ERROR, message: clip(`recording failed: ${e.message}`) };
    };
    this.episode = { writer, channels };
    this.diagnostics.condition = null;
    const t = this.now();
    for (const s of this.subscriptions) {
      if (!s.latched) continue;
      this.written(writer.write(channels.get(s.sub.topic)!, t, s.latched.data, s.latched.publishTime ?? t));
    }
    this.counters.inc("episodes_started");
    this.node.logger.info(`recording episode ${writer.path} (task ${JSON.stringify(clip(meta.task, 80))}, operator ${JSON.stringify(clip(meta.operator, 40))}, ${plans.length} channels)`);
    return { path: writer.path };
  }

  private async doStop(): Promise<EpisodeResult | null> {
    const ep = this.episode;
    if (!ep) return null;
    // The episode stays current until its file is closed: a message arriving meanwhile reaches
    // the closing writer, which refuses and counts it (dropped.closed, in the result's dropped),
    // rather than passing for one between episodes (idle_messages).
    const closed = await ep.writer.close(this.endMetadata());
    this.episode = null;
    // Refusals after the writer built its result (in the continuations before this one) count too.
    const result: EpisodeResult = { ...closed, dropped: ep.writer.refused };
    for (const [k, v] of Object.entries(ep.writer.counters.snapshot())) this.counters.inc(`episode.${k}`, v);
    this.counters.inc(result.ok ? "episodes_finished" : "episodes_failed");
    if (result.ok) {
      this.node.logger.info(`episode ${result.path} finished: ${result.messages} messages, ${result.chunks} chunks, ${(result.bytes / 1e6).toFixed(1)} MB` +
        (result.dropped > 0 ? `, ${result.dropped} dropped` : ""));
    } else {
      this.node.logger.error(`episode ${result.path} ended with an error: ${result.error?.message ?? "unknown"}`);
    }
    return result;
  }

  /** The episode_end record: the end time and each stream's final clock estimate (none, reported, if it cannot be written). */
  private endMetadata(): { name: string; entries: Map<string, string> } | undefined {
    try {
      const clocks = Object.fromEntries(Object.entries(this.options.clockEstimates?.() ?? {}).filter(([, c]) => c.samples > 0));
      const endWallTimeNs = anchoredNowNs(this.anchor);
      return { name: EPISODE_END_METADATA_NAME, entries: episodeEndEntries({ endWallTimeNs, clocks }) };
    } catch (e) {
      this.diagnostics.errors.report(e, "episode_end metadata");
      return undefined;
    }
  }

  private async onServiceRequest(req: M.spatial_reward_msgs__srv__RecordEpisode_Request): Promise<M.spatial_reward_msgs__srv__RecordEpisode_Response> {
    try {
      if (req.command === RecordEpisode_RequestCommand.COMMAND_START) {
        const { path } = await this.start({ task: req.task, operator: req.operator, seed: controlSeed(req.seed) });
        return { ok: true, message: `recording ${path}`, path };
      }
      if (req.command === RecordEpisode_RequestCommand.COMMAND_STOP) {
        const r = await this.stop();
        if (!r) return { ok: false, message: "no episode is being recorded", path: "" };
        return { ok: r.ok, message: r.ok ? `finished: ${r.messages} messages` : clip(r.error?.message ?? "failed"), path: r.path };
      }
      throw new InvalidInputError("bad_argument", `command must be COMMAND_START (1) or COMMAND_STOP (2), got ${String(req.command)}`);
    } catch (e) {
      const typed = this.diagnostics.errors.report(e, "record_episode");
      return { ok: false, message: typed.code === "internal" ? "internal error (logged)" : clip(typed.message), path: "" };
    }
  }

  private onControl(m: M.spatial_reward_msgs__msg__RecorderControl): void {
    const report = (e: unknown) => this.diagnostics.errors.report(e, "recorder/control");
    if (m.command === RecorderControlCommand.COMMAND_START) this.start({ task: m.task, operator: m.operator, seed: controlSeed(m.seed) }).catch(report);
    else if (m.command === RecorderControlCommand.COMMAND_STOP) this.stop().catch(report);
    else throw new InvalidInputError("bad_message", `recorder/control command must be COMMAND_START (1) or COMMAND_STOP (2), got ${String(m.command)}`);
  }
}

/** A message's header stamp in ns, if it has a valid one (the publish time MCAP records). */
function publishTimeOf(msg: unknown): bigint | undefined {
  const h = msg !== null && typeof msg === "object" ? (msg as { header?: { stamp?: unknown } }).header : undefined;
  if (!h || typeof h !== "object" || h.stamp === undefined) return undefined;
  try {
    return stampFromRos(h.stamp as M.builtin_interfaces__msg__Time);
  } catch (e) {
    if (e instanceof SpatialRewardError) return undefined;
    throw e;
  }
}
