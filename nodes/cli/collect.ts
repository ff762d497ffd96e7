import { basename } from "node:path";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_LATCHED, QOS_SENSOR_DATA, type QoS } from "../../src/transport/qos.js";
import type { TransportNode } from "../../src/transport/port.js";
import { LatencyStats } from "../../src/diagnostics/latency_stats.js";
import { decodeMocapFrame, encodeMocapFrame } from "../../src/mocap/mocap_codec.js";
import { codecFor } from "../../src/transport/dds/codec_cache.js";
import type { MocapFrame } from "../../src/msgs/mocap_proto.js";
import { DEFAULT_RECORDED_TOPICS, parseTopicEntry } from "../../src/record/topic_list.js";
import { accountEpisode } from "../../src/record/episode_accounting.js";
import type * as M from "../../src/msgs/generated.js";
import {
  DEFAULT_MOCAP_EMITTER_OPTIONS, footprintRadius, HAND_BODY_NAME, MAX_EPISODE_FRAMES, MIN_EPISODE_FRAMES, MocapEmitter, primitiveHeight,
  RgbdSensor, teleopScenario, uniqueName, worldAt, type NoiseModel, type TeleopScenario,
} from "../../sim/index.js";
import { MocapIngestNode, MOCAP_REWARD_TOPIC, topicToken, type IngestedFrame } from "../mocap_ingest_node.js";
import { RecorderNode } from "../recorder_node.js";
import { MOCAP_CHANNEL, mocapRecorderOptions, recordMocapFrame } from "../mocap_recording.js";
import { MocapBacklog } from "../mocap/mocap_backlog.js";
import { PerceptionNode } from "../perception_node.js";
import { SpatialNode } from "../spatial_node.js";
import { RewardNode } from "../reward_node.js";
import { RealtimeSimCamera } from "../realtime_sim_camera.js";
import { cameraMessages, SimCameraNode } from "../sim_camera_node.js";
import { T } from "../messages.js";
import { MocapPublisher, type MocapFrameSource } from "../mqtt/mocap_publisher.js";
import { connectMqtt, NO_TLS } from "../mqtt/mqtt_connection.js";
import { DEFAULT_BACKOFF } from "../mqtt/reconnect_backoff.js";
import { SpatialRewardError } from "../../src/errors.js";
import type { EpisodeResult } from "../recorder/episode_writer.js";
import { readEpisodeSummary, type EpisodeFileSummary } from "../recorder/episode_summary.js";
import { Progress } from "./progress.js";
import type { CollectOptions } from "./collect_command.js";

/** The simulator's mocap stream: rate, stream id, and how far its device clock is behind the host's. */
const SIM_MOCAP_RATE_HZ = 240;
const SIM_STREAM = DEFAULT_MOCAP_EMITTER_OPTIONS.streamId;
const SIM_DEVICE_OFFSET_NS = DEFAULT_MOCAP_EMITTER_OPTIONS.clockOffsetNs;
/**
 * With --sim the mocap stream starts this long before the camera (the scripted world at rest):
 * connection, first-use compilation and the clock estimate settle on the light mocap load
 * before rendering starts competing for this process's event loop. Recorded: the episode
 * holds the mocap stream from its first frame.
 */
const SIM_PREROLL_NS = 1_000_000_000n;
const CAMERA_HZ = 30;
/**
 * Mocap frames (50 ms at 240 Hz) that may wait between the publisher and the ingest's output
 * before the simulated camera pauses. Rendering and recording a 640x480 RGB-D frame takes tens
 * of milliseconds of this process's one event loop; on a host too busy for both streams the
 * mocap stream would otherwise build a backlog of seconds, which delays the ingest's output and,
 * held long enough, reads to its clock estimator like a step of the host clock.
 */
const MAX_MOCAP_BEHIND = 12;
const DEFAULT_SIM_SEED = 7;
/** Where an embedded broker listens for a real mocap system (with --sim the publisher is ours: any free port). */
const EMBEDDED_PORT = 1883;
/** How long a broker may take to accept the ingest's subscription. */
const CONNECT_TIMEOUT_MS = 15_000;
/** How long frames sent before the stop may take to arrive. */
const DRAIN_TIMEOUT_MS = 10_000;
/** The tracked hand's box (m) in mocap rewards: a closed hand around a grasp point. */
const HAND_SIZE_M = 0.08;

/** Why the episode ended. */
type EndReason = "duration" | "signal" | "episode_end";

/**
 * The simulator's mocap emitter as the publisher's frame source, with its truth on the
 * publisher's clock (MocapEmitter.next's contract: minus the publisher's device offset as the
 * clock offset, no drift): created at the first tick, with the scripted episode starting
 * `prerollNs` after that tick (the world holds its first pose until then), when the camera's
 * frame 0 is due.
 */
class SimMocapSource implements MocapFrameSource {
  emitter: MocapEmitter | null = null;

  constructor(private readonly scenario: TeleopScenario, private readonly seed: number, private readonly deviceOffsetNs: bigint, private readonly prerollNs: bigint) {}

  next(deviceNs: bigint): MocapFrame | null {
    this.emitter ??= new MocapEmitter(this.scenario, {
      seed: this.seed, streamId: SIM_STREAM, rateHz: SIM_MOCAP_RATE_HZ, deviceStartNs: deviceNs + this.prerollNs, clockOffsetNs: -this.deviceOffsetNs, driftPpm: 0,
    });
    return this.emitter.next(deviceNs);
  }
}

/**
 * The simulator's rigid bodies as mocap_ingest's reward_objects: the hand and every object
 * (kind and colour as the scene names them, box from the solid's footprint and height). The
 * emitter puts an object's origin at its base centre while the ingest centres each box on the
 * origin, so vertical relations (on top of) are off by half the objects' heights; horizontal
 * ones (next to, near) are not affected.
 */
function simRewardObjects(s: TeleopScenario): string[] {
  const out = [`body=${HAND_BODY_NAME} kind=hand size=${HAND_SIZE_M},${HAND_SIZE_M},${HAND_SIZE_M}`];
  for (const o of s.world.objects) {
    const d = 2 * footprintRadius(o.primitive), h = primitiveHeight(o.primitive);
    out.push(`body=${o.id} kind=${o.kind}${o.color ? ` color=${o.color}` : ""} size=${d},${d},${h}`);
  }
  return out;
}

/** Questions about the task's two objects, asked once a second so the episode holds answers. */
function simQuestions(s: TeleopScenario): string[] {
  const a = s.world.objects[s.episode.aIndex];
  const b = s.world.objects.find((o) => o.id === s.episode.task.b)!;
  const an = uniqueName(s.world, a), bn = uniqueName(s.world, b);
  return [`How far is the ${an} from the ${bn}?`, `Is the ${an} to the left of the ${bn}?`, `What is the gap between the ${an} and the ${bn}?`, `How tall is the ${bn}?`];
}

function qosOf(entry: string): QoS {
  const q = parseTopicEntry(entry).qos;
  return q === "latched" ? QOS_LATCHED : q === "best_effort" ? QOS_SENSOR_DATA : { reliability: "reliable", durability: "volatile", history: "keep_all", depth: 1000 };
}

/**
 * Runs the first simulator frames through a throwaway graph (renderer, perception, spatial,
 * reward, CDR and protobuf codecs) before the episode: first calls compile code and build
 * schemas for a few hundred milliseconds, which inside the episode would hold up the mocap
 * stream and the clock estimate its first stamps depend on.
 */
async function warmUp(s: TeleopScenario, seed: number, noise: NoiseModel): Promise<void> {
  const t = new InprocTransport();
  t.logSinks = [];
  new PerceptionNode(t.createNode("perception"));
  new SpatialNode(t.createNode("spatial"));
  new RewardNode(t.createNode("reward", { parameterOverrides: { reward_spec: s.episode.instruction } }));
  const camera = new SimCameraNode(t.createNode("sim_camera"));
  const sensor = new RgbdSensor({ noise, seed });
  const ask = t.createNode("ask").createPublisher<M.std_msgs__msg__String>(T.String, "spatial/question", { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 1 });
  const questions = simQuestions(s);
  const stamp = BigInt(Date.now()) * 1_000_000n;
  for (let f = 0; f < 3; f++) {
    const cap = sensor.capture(worldAt(s.world, s.episode.poses[f]), s.camera, stamp + BigInt(f) * 33_333_333n);
    camera.publish(cap.frame, cap.truth);
    ask.publish({ data: questions[f % questions.length] });
    const m = cameraMessages(cap.frame, camera.frameId);
    codecFor(T.Image).encode(m.rgb);
    codecFor(T.CameraInfo).encode(m.info);
    await new Promise((r) => setImmediate(r));
  }
  decodeMocapFrame(encodeMocapFrame(new MocapEmitter(s, { seed, streamId: SIM_STREAM }).emit().frame));
  await t.shutdown();
}

/**
 * Ends any session the broker keeps for `clientId` (a clean-session connect discards it), so
 * frames queued for an earlier run are not delivered into this one; the ingest then opens a
 * persistent session of its own, which carries this run through broker restarts.
 */
async function discardSession(url: string, clientId: string): Promise<void> {
  const { client } = connectMqtt({
    url, clientId, clean: true, protocolVersion: 4, sessionExpiryS: 0, username: "", password: "", tls: NO_TLS,
    keepaliveS: 10, connectTimeoutMs: 5000, backoff: DEFAULT_BACKOFF,
  });
  client.on("error", () => {}); // retried with backoff; the timeout below decides
  try {
    const connected = await Promise.race([
      new Promise<boolean>((resolve) => client.once("connect", () => resolve(true))),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), CONNECT_TIMEOUT_MS).unref()),
    ]);
    if (!connected) throw new SpatialRewardError("backend_unavailable", `the MQTT broker ${url} did not answer within ${CONNECT_TIMEOUT_MS / 1000} s`);
  } finally {
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
const finite = (v: number) => (Number.isFinite(v) ? v : null);

/**
 * `spatial-reward collect` (options checked by collect_command.ts): one teleop recording
 * session in this process, on the in-process transport. See collect_command.ts for what it
 * starts; the episode file's messages per topic in the summary are read back from the file.
 */
export async function run(o: CollectOptions): Promise<number> {
  // Signals are caught before anything starts: one during start-up must end cleanly, a second one at once.
  let stopRequested = false;
  let wake: (() => void) | null = null;
  const onSignal = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    wake?.();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const transport = new InprocTransport();
  let ingest: MocapIngestNode | null = null;
  let recorder: RecorderNode | null = null;
  let publisher: MocapPublisher | null = null;
  try {
    return await session(o, transport, () => stopRequested, (w) => (wake = w), {
      ingest: (i) => (ingest = i), recorder: (r) => (recorder = r), publisher: (p) => (publisher = p),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await (publisher as MocapPublisher | null)?.close(true);
    await (ingest as MocapIngestNode | null)?.close();
    await (recorder as RecorderNode | null)?.shutdown();
    await transport.shutdown();
  }
}

interface Track {
  ingest(i: MocapIngestNode): void;
  recorder(r: RecorderNode): void;
  publisher(p: MocapPublisher): void;
}

async function session(
  o: CollectOptions, transport: InprocTransport, stopRequested: () => boolean, setWake: (w: (() => void) | null) => void, track: Track,
): Promise<number> {
  const seed = o.seed ?? DEFAULT_SIM_SEED;
  const frames = o.duration > 0 ? Math.min(MAX_EPISODE_FRAMES, Math.max(MIN_EPISODE_FRAMES, Math.round(o.duration * CAMERA_HZ))) : 300;
  const scenario = o.sim ? teleopScenario(seed, frames) : null;
  const task = o.task ?? scenario?.episode.instruction ?? "";
  if (scenario) await warmUp(scenario, seed, o.noise);
  const node = (name: string, parameterOverrides: Record<string, string | number | boolean | string[]> = {}): TransportNode =>
    transport.createNode(name, { parameterOverrides, logLevel: "warn" });

  // ---- mocap: ingest (and the embedded broker) -------------------------------------------
  let recorderRef: RecorderNode | null = null;
  const mocap = { received: 0, outside: 0, notRecorded: 0 };
  const latency = new LatencyStats();
  const backlog = new MocapBacklog();
  const onFrame = (f: IngestedFrame): void => {
    const r = recorderRef;
    if (!r || !r.recording) {
      mocap.outside++;
      return;
    }
    mocap.received++;
    if (!recordMocapFrame(r, f)) mocap.notRecorded++;
    if (o.sim) {
      const sent = backlog.released(f.frame.frame.frame_number);
      if (sent !== null) latency.add(Number(ingestRef.now() - sent) / 1e6);
    } else latency.add(Number(f.frame.receiveNs - f.stampNs) / 1e6);
  };
  const clientId = "spatial_reward_collect_ingest";
  if (o.broker !== "embedded") await discardSession(o.broker, clientId);
  const ingestParams: Record<string, string | number | boolean | string[]> = {
    broker: o.broker, embedded_port: o.sim ? 0 : EMBEDDED_PORT, client_id: clientId,
  };
  if (scenario) Object.assign(ingestParams, { reward_spec: scenario.episode.instruction, reward_objects: simRewardObjects(scenario) });
  const ingestRef: MocapIngestNode = new MocapIngestNode(node("mocap_ingest", ingestParams), { onFrame });
  track.ingest(ingestRef);
  await ingestRef.start();
  const subscribed = await Promise.race([
    ingestRef.subscribed().then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), CONNECT_TIMEOUT_MS).unref()),
  ]);
  if (!subscribed) {
    process.stderr.write(`collect: the MQTT broker ${ingestRef.brokerUrl} did not accept the mocap subscription within ${CONNECT_TIMEOUT_MS / 1000} s\n`);
    return 1;
  }

  // ---- the processing nodes and the recorder ---------------------------------------------
  new PerceptionNode(node("perception"));
  new SpatialNode(node("spatial"));
  // With --sim the task is the instruction (as demo does); else the reward follows reward/spec.
  new RewardNode(node("reward", scenario ? { reward_spec: scenario.episode.instruction } : {}));
  const topics = [...DEFAULT_RECORDED_TOPICS, `${MOCAP_REWARD_TOPIC}:${T.Reward}`];
  if (scenario) {
    const stream = topicToken(SIM_STREAM);
    topics.push(`mocap/${stream}/frame:${T.MocapFrame}`);
    const bodies = [HAND_BODY_NAME, ...scenario.world.objects.map((x) => x.id)];
    for (const b of bodies) topics.push(`mocap/${stream}/${topicToken(b)}/pose:${T.PoseStamped}`);
  }
  for (const t of o.topics) {
    const topic = parseTopicEntry(t).topic;
    if (!topics.some((x) => parseTopicEntry(x).topic === topic)) topics.push(t);
  }
  const recorder = new RecorderNode(node("recorder", { output_dir: o.out, topics }), mocapRecorderOptions(() => ingestRef));
  track.recorder(recorder);
  recorderRef = recorder;
  // Rates for the progress line: every recorded topic, counted as it is published. Those
  // published while the episode is being recorded are counted apart, by the topic as the file
  // names it: the accounting checks each against the file. (The recorder's subscription was
  // made first, so it has seen a message when this one does.)
  const counts = new Map<string, number>();
  const duringEpisode = new Map<string, { count: number }>();
  const probe = node("collect");
  for (const t of topics) {
    const { topic, type } = parseTopicEntry(t);
    counts.set(topic, 0);
    const during = { count: 0 };
    const sub = probe.createSubscription<unknown>(type, topic, qosOf(t), () => {
      counts.set(topic, (counts.get(topic) ?? 0) + 1);
      if (recorder.recording) during.count++;
    });
    duringEpisode.set(sub.topic, during);
  }

  // ---- the simulator's mocap publisher, connected before the episode starts ----------------
  let publisher: MocapPublisher | null = null;
  let source: SimMocapSource | null = null;
  if (scenario) {
    source = new SimMocapSource(scenario, seed, -SIM_DEVICE_OFFSET_NS, SIM_PREROLL_NS);
    publisher = new MocapPublisher({
      url: ingestRef.brokerUrl, source, rateHz: SIM_MOCAP_RATE_HZ, clientId: "spatial_reward_collect_sim_mocap",
      // The host clock the ingest stamps with: publish → output latency is one clock's difference.
      clock: () => ingestRef.now(), deviceOffsetNs: -SIM_DEVICE_OFFSET_NS,
      onPublished: (frame, ns) => backlog.sent(frame.frame_number, ns),
    });
    track.publisher(publisher);
    await publisher.waitConnected();
  }

  // ---- the episode ------------------------------------------------------------------------
  const extra: Record<string, string> = { collector: "spatial-reward collect", broker: ingestRef.brokerUrl, mocap_channel: MOCAP_CHANNEL, sim: String(o.sim) };
  if (scenario) {
    Object.assign(extra, {
      sim_frames: String(frames), sim_camera_hz: String(CAMERA_HZ), sim_mocap_rate_hz: String(SIM_MOCAP_RATE_HZ),
      sim_mocap_stream: SIM_STREAM, sim_device_clock_offset_ns: String(SIM_DEVICE_OFFSET_NS),
    });
  }
  if (stopRequested()) {
    process.stderr.write("collect: stopped before the episode started; nothing recorded\n");
    return 0;
  }
  const { path } = await recorder.start({ task, operator: o.operator, seed: o.sim || o.seed !== undefined ? seed : null, extra });
  const t0 = performance.now();
  let sim: RealtimeSimCamera | null = null;
  let asker: ReturnType<typeof setTimeout> | null = null;
  if (scenario && publisher) {
    // The camera and the mocap stream play the scripted episode from the same instant of the
    // ingest's host clock: the publisher's first tick, which is the emitter's episode start.
    // The mocap stream has priority: while more than MAX_MOCAP_BEHIND frames sent are not
    // through the ingest yet, the camera renders nothing (its frames due meanwhile are skipped).
    sim = new RealtimeSimCamera(node("sim_camera"), scenario, {
      seed, noise: o.noise, now: () => ingestRef.now(), holdWhile: () => backlog.size > MAX_MOCAP_BEHIND,
    });
    const firstTickNs = ingestRef.now();
    publisher.start();
    sim.start(firstTickNs + SIM_PREROLL_NS);
    const questions = simQuestions(scenario);
    const ask = probe.createPublisher<M.std_msgs__msg__String>(T.String, "spatial/question", { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 10 });
    let k = 0;
    // From the camera's first frame on: before it, every answer would be "no scene yet".
    const askNext = () => ask.publish({ data: questions[k++ % questions.length] });
    asker = setTimeout(() => {
      askNext();
      asker = setInterval(askNext, 1000);
    }, Number(SIM_PREROLL_NS) / 1e6 + 500);
  }

  // ---- run, with live progress --------------------------------------------------------------
  const progress = new Progress(1000, true);
  const episodeS = frames / CAMERA_HZ;
  const preroll = o.sim ? Number(SIM_PREROLL_NS) / 1e6 : 0;
  const deadline = o.duration > 0 ? t0 + preroll + o.duration * 1000 : o.sim ? t0 + preroll + episodeS * 1000 : Infinity;
  let reason: EndReason = "duration";
  let last = { t: t0, counts: new Map(counts), mocap: 0 };
  while (true) {
    if (stopRequested()) {
      reason = "signal";
      break;
    }
    const now = performance.now();
    if (now >= deadline) {
      reason = o.duration > 0 ? "duration" : "episode_end";
      break;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(200, Math.max(1, deadline - now)));
      setWake(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    setWake(null);
    const t = performance.now();
    if (t - last.t >= 1000) {
      const dt = (t - last.t) / 1000;
      const rate = (topic: string) => ((counts.get(topic) ?? 0) - (last.counts.get(topic) ?? 0)) / dt;
      const poses = [...counts.keys()].filter((k) => k.endsWith("/pose"));
      const poseRate = poses.reduce((a, k) => a + rate(k), 0);
      const pub = publisher?.stats;
      const drops = recorder.counters.get("dropped.recording") + recorder.counters.get("dropped.unserialisable");
      progress.update(
        `episode ${basename(path)}  ${t - t0 < preroll ? "mocap pre-roll" : `${((t - t0 - preroll) / 1000).toFixed(1)}${o.duration > 0 ? `/${o.duration}` : ""} s`}  ` +
        `camera ${rate("camera/color/image_raw").toFixed(1)} Hz  depth ${rate("camera/aligned_depth_to_color/image_raw").toFixed(1)} Hz  ` +
        `mocap ${((mocap.received - last.mocap) / dt).toFixed(1)} Hz${pub ? ` (sent ${pub.frames_sent}, received ${mocap.received})` : ` (${mocap.received})`}  ` +
        `poses ${poseRate.toFixed(0)}/s over ${poses.length} topics  tf ${rate("/tf").toFixed(0)} Hz  ` +
        `reward ${rate("reward").toFixed(1)} Hz  mocap/reward ${rate(MOCAP_REWARD_TOPIC).toFixed(1)} Hz  answers ${counts.get("spatial/answer") ?? 0}  ` +
        `drops ${drops}`,
      );
      last = { t, counts: new Map(counts), mocap: mocap.received };
    }
  }

  // ---- stop: camera first, then let every mocap frame sent arrive, then end the episode -----
  if (asker) clearTimeout(asker);
  sim?.stop();
  const cameraStoppedS = (performance.now() - t0) / 1000;
  let drained = true;
  if (publisher) {
    publisher.stop();
    drained = await publisher.drain(DRAIN_TIMEOUT_MS);
    const end = Date.now() + DRAIN_TIMEOUT_MS;
    while (mocap.received + mocap.outside < publisher.stats.frames_sent && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  } else {
    // Frames held for reordering are released within the reorder window.
    await new Promise((r) => setTimeout(r, 100));
  }
  const durationS = (performance.now() - t0) / 1000;
  const result = (await recorder.stop()) as EpisodeResult;
  progress.done();

  // ---- the file, read back ------------------------------------------------------------------
  let file: EpisodeFileSummary | null = null;
  let fileError = "";
  try {
    file = await readEpisodeSummary(result.path);
  } catch (e) {
    fileError = e instanceof Error ? e.message : String(e);
  }
  const stream = ingestRef.streamCounters();
  const gaps = Object.values(stream).reduce((a, c) => a + c.frames_lost, 0);
  const pub = publisher?.stats ?? null;
  const framesSent = pub ? pub.frames_sent : null;
  const framesLost = pub ? pub.frames_sent - mocap.received - mocap.outside : gaps;
  const lat = latency.summary();
  const clocks = ingestRef.clockEstimates();
  const recorderDrops = {
    queue_or_closed: result.dropped,
    lost_on_write_error: result.lost,
    unserialisable: recorder.counters.get("dropped.unserialisable"),
    mocap_not_recorded: mocap.notRecorded,
  };
  // Accounting: every message published on a recorded topic while the episode was recorded
  // (and every mocap frame the ingest released meanwhile) must be in the file or counted as
  // dropped by the recorder; anything else would be a silent loss, and is reported as one.
  // Mocap frames the writer refused are in queue_or_closed already: the channel's expected count leaves them out.
  const counted = recorderDrops.queue_or_closed + recorderDrops.lost_on_write_error + recorderDrops.unserialisable;
  const published: [string, number][] = [...[...duringEpisode].map(([t, d]) => [t, d.count] as [string, number]), [MOCAP_CHANNEL, mocap.received - mocap.notRecorded]];
  const accounted = accountEpisode(published, file?.messages ?? {}, counted);
  const accounting = accounted.topics;
  const notInFile = accounted.not_in_file;
  const unaccounted = file ? accounted.unaccounted : 0;
  const dropped = recorderDrops.queue_or_closed + recorderDrops.lost_on_write_error + recorderDrops.unserialisable + unaccounted;
  const summary = {
    episode: result.path,
    duration_s: round3(durationS),
    // With --sim the mocap stream runs this long before the camera's first frame (recorded too).
    preroll_s: preroll / 1000,
    ended_by: reason,
    task,
    operator: o.operator,
    seed: o.sim || o.seed !== undefined ? seed : null,
    sim: o.sim,
    broker: ingestRef.brokerUrl,
    ok: result.ok,
    error: result.error?.message ?? (fileError || null),
    messages: file?.messages ?? {},
    messages_total: file?.total ?? 0,
    rates_hz: Object.fromEntries(Object.entries(file?.messages ?? {}).map(([k, v]) => [k, round3(v / durationS)])),
    // The simulated camera renders on this process's event loop: a frame it had no time for is
    // never made (skipped, or not yet due when the run ended), which is not a loss; every frame
    // it published must be in the file (accounting).
    camera: sim ? {
      frames_published: sim.published, frames_skipped_late: sim.skipped, held_for_mocap: sim.held, episode_frames: frames,
      frames_due: Math.max(0, Math.min(frames, Math.floor((cameraStoppedS - preroll / 1000) * CAMERA_HZ) + 1)),
      frames_in_file: file?.messages[[...duringEpisode.keys()].find((k) => k.endsWith("camera/color/image_raw")) ?? ""] ?? 0,
    } : null,
    file: file ? { bytes: file.bytes, chunks: file.chunks, start_ns: String(file.startNs), end_ns: String(file.endNs) } : null,
    mocap: {
      frames_sent: framesSent,
      frames_received: mocap.received,
      frames_lost: framesLost,
      frames_outside_episode: mocap.outside,
      // Frame numbers the source never sent (device dropouts; with --sim, simulated ones).
      source_gaps: gaps,
      latency_ms: { p50: finite(lat.p50), p99: finite(lat.p99), max: finite(lat.max), n: lat.n },
      latency_kind: o.sim ? "mqtt publish → ingest output" : "mid-exposure → host receipt (estimated clock)",
      publisher: pub ? { late_ticks: pub.late_ticks, drained, skipped_by_source: pub.frames_skipped_by_source, failed: pub.frames_failed + pub.frames_send_failed } : null,
      clock: Object.fromEntries(Object.entries(clocks).map(([id, c]) => [id, {
        offset_ns: String(c.offset_ns), drift_ppm: round3(c.drift_ppm), residual_ns: Math.round(c.residual_ns), samples: c.samples,
        ...(o.sim ? { device_offset_ns: String(SIM_DEVICE_OFFSET_NS) } : {}),
      }])),
      rejected: Object.fromEntries(Object.entries(stream).flatMap(([id, c]) =>
        Object.entries(c).filter(([k, v]) => v !== 0 && k !== "frames_received" && k !== "frames_released" && k !== "frames_lost").map(([k, v]) => [`${id}.${k}`, v]))),
    },
    dropped,
    drops: { ...recorderDrops, unaccounted },
    // Per topic: published while recorded (the probe's count), in the file, and the difference.
    accounting,
    counters: {
      recorder: recorder.counters.snapshot(),
      mocap_ingest: ingestRef.counters.snapshot(),
      transport: transport.counters.snapshot(),
    },
  };
  const failed = !result.ok || file === null || framesLost !== 0 || dropped !== 0 || mocap.notRecorded !== 0 || unaccounted !== 0;
  if (o.json) console.log(JSON.stringify(summary));
  else {
    console.log(`episode ${result.path}: ${summary.duration_s} s${reason === "signal" ? " (stopped by a signal)" : ""}, ${summary.messages_total} messages, ${file ? (file.bytes / 1e6).toFixed(1) : "?"} MB in ${file?.chunks ?? "?"} chunks`);
    for (const [topic, n] of Object.entries(summary.messages).sort()) console.log(`  ${topic.padEnd(48)} ${String(n).padStart(8)}  ${summary.rates_hz[topic].toFixed(1).padStart(7)} Hz`);
    console.log(`mocap: ${framesSent ?? "?"} frames sent, ${mocap.received} received, ${framesLost} lost, ${gaps} missing at the source; ` +
      `latency (${summary.mocap.latency_kind}) p50 ${lat.p50} ms, p99 ${lat.p99} ms`);
    for (const [id, c] of Object.entries(summary.mocap.clock)) console.log(`mocap clock ${id}: host − device ${(Number(c.offset_ns) / 1e9).toFixed(6)} s, drift ${c.drift_ppm} ppm`);
    if (summary.camera) {
      console.log(`simulated camera: ${summary.camera.frames_published} of the ${summary.camera.frames_due} frames due published (${summary.camera.frames_in_file} in the file), ` +
        `${summary.camera.frames_skipped_late} skipped because rendering was late, held ${summary.camera.held_for_mocap} time(s) for the mocap stream`);
    }
    if (notInFile > 0) console.log(`not in the file: ${JSON.stringify(Object.fromEntries(Object.entries(accounting).filter(([, a]) => a.missing > 0)))}`);
    console.log(`dropped: ${dropped}${dropped > 0 ? ` ${JSON.stringify(recorderDrops)}` : ""}`);
    if (fileError) console.log(`the episode file does not read back: ${fileError}`);
  }
  if (failed) process.stderr.write(`collect: ${fileError || (!result.ok ? `the episode ended with an error: ${result.error?.message}` : `lost ${framesLost} mocap frame(s), dropped ${dropped} message(s)`)}\n`);
  return failed ? 1 : 0;
}
