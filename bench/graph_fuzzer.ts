import { InprocTransport } from "../src/transport/inproc_transport.js";
import { QOS_DEFAULT, QOS_LATCHED } from "../src/transport/qos.js";
import type { Publisher } from "../src/transport/port.js";
import { Counters } from "../src/diagnostics/counters.js";
import { CdrCodec } from "../src/msgs/cdr_codec.js";
import { mulberry32 } from "../src/random/mulberry32.js";
import { fromNanoseconds, toNanoseconds } from "../src/time/ros_time.js";
import type { MessageTypeName, MessageTypes } from "../src/msgs/generated.js";
import type * as M from "../src/msgs/generated.js";
import { RgbdSensor, teleopScenario, uniqueName, worldAt } from "../sim/index.js";
import { PerceptionNode } from "../nodes/perception_node.js";
import { SpatialNode } from "../nodes/spatial_node.js";
import { RewardNode } from "../nodes/reward_node.js";
import { cameraMessages, type CameraMessages } from "../nodes/sim_camera_node.js";
import { T, sceneToMsg } from "../nodes/messages.js";
import { MessageMutator } from "./message_mutator.js";

export interface GraphFuzzReport {
  seed: number;
  /** Messages handed to the graph (mutated or not), and hostile ones among them. */
  messages: number;
  hostile: number;
  /** Hostile byte strings the CDR reader refused (the dds backend counts these as errors.decode). */
  cdr_rejected: number;
  /** Clean frames sent right after hostile input, and how many of them were rewarded. */
  clean_frames: number;
  clean_frames_rewarded: number;
  /** Why the first clean frames that went unrewarded did (what came before, the errors they met). */
  unrewarded_samples: string[];
  /** Questions published on spatial/question and answers received (every question gets one). */
  questions: number;
  answers: number;
  /** Rejections counted by the nodes, by counter name (errors.*, dropped.*). */
  rejections: Record<string, number>;
  /** Must stay 0: exceptions that were not SpatialRewardErrors, and exceptions reaching the transport. */
  internal_errors: number;
  /** Log lines of the first unexpected exceptions, to fix them. */
  internal_samples: string[];
  callback_errors: number;
  /** Non-Error values thrown by the CDR reader (must stay 0: a reader must throw Errors). */
  cdr_non_error_throws: number;
  seconds: number;
  messages_per_s: number;
  rss_mb: number;
}

function restampFrame(m: CameraMessages, header: M.std_msgs__msg__Header): CameraMessages {
  const restamp = <X extends { header: M.std_msgs__msg__Header }>(x: X): X => ({ ...x, header });
  return {
    info: restamp(m.info), rgb: restamp(m.rgb), depth: restamp(m.depth),
    masks: m.masks && { ...restamp(m.masks), mask: restamp(m.masks.mask) },
    detections: m.detections && restamp(m.detections),
  };
}

type Kind = "rgb" | "depth" | "info" | "masks" | "detections" | "scene" | "question" | "spec";
const KINDS: readonly Kind[] = ["rgb", "depth", "info", "masks", "detections", "scene", "question", "spec"];
const PERIOD_NS = 33_333_333n;

/**
 * Feeds the node graph (perception with masks in /m and with detections in /d, spatial and
 * reward in both) hostile messages — mutated CDR bytes decoded by the dds backend's reader, and
 * mutated message fields — interleaved with clean frames, over the in-process transport so a
 * million messages take minutes. After every hostile frame a clean frame follows on the clean
 * timeline and must be rewarded: one bad message may cost itself, never the next frame.
 */
export class GraphFuzzer {
  private readonly random: () => number;
  private readonly mut: MessageMutator;
  private readonly transport = new InprocTransport();
  private readonly base: { frame: CameraMessages; truth: M.spatial_reward_msgs__msg__SceneObjects }[] = [];
  private readonly graphs: { ns: string; perception: PerceptionNode; spatial: SpatialNode; reward: RewardNode; pub: Record<Kind, Publisher<unknown>> }[] = [];
  private readonly codecs = new Map<string, CdrCodec<MessageTypeName>>();
  private readonly rewardStamps = new Map<string, bigint>();
  private readonly instruction: string;
  private readonly question: string;
  private cleanNs = 1_700_000_000_000_000_000n;
  private answers = 0;
  private readonly stats = new Counters();
  private readonly internalSamples: string[] = [];
  private readonly unrewarded: string[] = [];

  constructor(readonly seed: number) {
    this.random = mulberry32(seed);
    this.mut = new MessageMutator(this.random);
    // Keep the first unexpected exceptions' log lines (stack included) for the report.
    this.transport.logSinks = [(r) => {
      if (r.level === "error" && this.internalSamples.length < 5) this.internalSamples.push(`[${r.name}] ${r.message.slice(0, 1500)}`);
    }];
    const scenario = teleopScenario(seed % 1000, 60);
    this.instruction = scenario.episode.instruction;
    const a = scenario.world.objects[scenario.episode.aIndex];
    this.question = `How far is the ${uniqueName(scenario.world, a)} from the table edge?`;
    const sensor = new RgbdSensor({ noise: "realsense", seed });
    for (let f = 0; f < 60; f += 6) {
      const cap = sensor.capture(worldAt(scenario.world, scenario.episode.poses[f]), scenario.camera, 0n);
      this.base.push({ frame: cameraMessages(cap.frame, "camera_color_optical_frame"), truth: sceneToMsg(cap.truth, "spatial") });
    }
    for (const [ns, segmentation] of [["/m", "masks"], ["/d", "detections"]] as const) {
      const node = (name: string, overrides: Record<string, string | number> = {}) =>
        this.transport.createNode(name, { namespace: ns, parameterOverrides: { diagnostics_period_ms: 0, ...overrides } });
      const perception = new PerceptionNode(node("perception", { segmentation }));
      const spatial = new SpatialNode(node("spatial"));
      const reward = new RewardNode(node("reward", { reward_spec: this.instruction }));
      const probe = node("fuzzer");
      probe.createSubscription<M.spatial_reward_msgs__msg__Reward>(T.Reward, "reward", QOS_DEFAULT, (r) => this.rewardStamps.set(ns, toNanoseconds(r.header.stamp)));
      probe.createSubscription(T.SpatialAnswer, "spatial/answer", QOS_DEFAULT, () => this.answers++);
      const pub: Record<Kind, Publisher<unknown>> = {
        rgb: probe.createPublisher(T.Image, "camera/color/image_raw"),
        depth: probe.createPublisher(T.Image, "camera/aligned_depth_to_color/image_raw"),
        info: probe.createPublisher(T.CameraInfo, "camera/color/camera_info"),
        masks: probe.createPublisher(T.InstanceMasks, "camera/instances"),
        detections: probe.createPublisher(T.Detection2DArray, "camera/detections"),
        scene: probe.createPublisher(T.SceneObjects, "scene/objects"),
        question: probe.createPublisher(T.String, "spatial/question"),
        spec: probe.createPublisher(T.RewardSpec, "reward/spec", QOS_LATCHED),
      };
      this.graphs.push({ ns, perception, spatial, reward, pub });
    }
    // Clean frames must be ones the graph rewards when nothing is wrong (in some frames of the
    // episode the carried object is out of view, a legitimate unknown_object): keep those.
    const usable = this.base.filter((b) => this.graphs.every((g) => {
      this.cleanNs += PERIOD_NS;
      const header = { stamp: fromNanoseconds(this.cleanNs), frame_id: "camera_color_optical_frame" };
      this.sendFrame(g, restampFrame(b.frame, header));
      return this.rewardStamps.get(g.ns) === this.cleanNs;
    }));
    if (usable.length === 0) throw new Error(`graph fuzzer: no frame of seed ${seed}'s episode is rewarded cleanly`);
    this.base.splice(0, this.base.length, ...usable);
    this.stats.inc("messages", -this.stats.get("messages"));
  }

  /** Sends at least `messages` messages; `progress` is called every ~5 s. */
  run(messages: number, progress?: (done: number) => void): GraphFuzzReport {
    const start = performance.now();
    let lastProgress = start;
    while (this.stats.get("messages") < messages) {
      const g = this.graphs[this.mut.int(this.graphs.length)];
      this.cleanFrame(g, this.hostileStep(g));
      const now = performance.now();
      if (progress && now - lastProgress > 5000) {
        lastProgress = now;
        progress(this.stats.get("messages"));
      }
    }
    return this.report((performance.now() - start) / 1000);
  }

  private codec<K extends MessageTypeName>(type: K): CdrCodec<K> {
    let c = this.codecs.get(type);
    if (!c) {
      c = new CdrCodec(type);
      this.codecs.set(type, c);
    }
    return c as CdrCodec<K>;
  }

  /** Half the time through CDR bytes (what a DDS peer can send), half as mutated fields. */
  private hostile<K extends MessageTypeName>(type: K, msg: MessageTypes[K], mutateFields: (m: MessageTypes[K]) => MessageTypes[K]): MessageTypes[K] | null {
    this.stats.inc("hostile");
    if (this.mut.chance(0.5)) return mutateFields(msg);
    const codec = this.codec(type);
    try {
      return codec.decode(this.mut.cdr(codec.encode(msg)));
    } catch (e) {
      this.stats.inc(e instanceof Error ? "cdr_rejected" : "cdr_non_error_throws");
      return null;
    }
  }

  private send(g: (typeof this.graphs)[number], kind: Kind, msg: unknown): void {
    this.stats.inc("messages");
    // publish() must never throw: whatever a node does with the message stays inside the node.
    g.pub[kind].publish(msg);
  }

  private frameAt(stampNs: bigint): { m: CameraMessages; truth: M.spatial_reward_msgs__msg__SceneObjects } {
    const b = this.base[this.mut.int(this.base.length)];
    const header = { stamp: fromNanoseconds(stampNs), frame_id: "camera_color_optical_frame" };
    return { m: restampFrame(b.frame, header), truth: { ...b.truth, header: { ...b.truth.header, stamp: header.stamp } } };
  }

  /** The frame's messages in a driver's order; a missing one (refused bytes) counts as sent. */
  private sendFrame(g: (typeof this.graphs)[number], m: Partial<CameraMessages>): void {
    const seg = g.ns === "/m" ? (["masks", m.masks] as const) : (["detections", m.detections] as const);
    for (const [kind, msg] of [["info", m.info], ["rgb", m.rgb], ["depth", m.depth], seg] as const) {
      if (msg === undefined) this.stats.inc("messages");
      else this.send(g, kind, msg);
    }
  }

  /** Sends one hostile message (or frame); returns which kind. */
  private hostileStep(g: (typeof this.graphs)[number]): Kind {
    const kind = this.mut.pick(KINDS);
    this.cleanNs += PERIOD_NS;
    const { m, truth } = this.frameAt(this.cleanNs);
    const mut = this.mut;
    switch (kind) {
      case "rgb": case "depth": case "info": case "masks": case "detections": {
        const w = m.rgb.width, h = m.rgb.height;
        // Bytes the reader refused never reach a node (the dds backend counts them as
        // errors.decode): the frame then lacks that message.
        const bad: Partial<CameraMessages> = { ...m };
        if (kind === "rgb") bad.rgb = this.hostile(T.Image, m.rgb, (x) => mut.image(x)) ?? undefined;
        else if (kind === "depth") bad.depth = this.hostile(T.Image, m.depth, (x) => mut.image(x)) ?? undefined;
        else if (kind === "info") bad.info = this.hostile(T.CameraInfo, m.info, (x) => mut.cameraInfo(x)) ?? undefined;
        else if (kind === "masks") bad.masks = this.hostile(T.InstanceMasks, m.masks!, (x) => mut.masks(x)) ?? undefined;
        else bad.detections = this.hostile(T.Detection2DArray, m.detections!, (x) => mut.detections(x, w, h)) ?? undefined;
        this.sendFrame(g, bad);
        return kind;
      }
      case "scene": {
        const s = this.hostile(T.SceneObjects, truth, (x) => mut.scene(x));
        if (s) this.send(g, "scene", s);
        else this.stats.inc("messages");
        return kind;
      }
      case "question": {
        const q = this.hostile(T.String, { data: this.question }, (x) => ({ data: mut.text(x.data) }));
        if (q) {
          this.stats.inc("questions");
          this.send(g, "question", q);
        } else this.stats.inc("messages");
        return kind;
      }
      case "spec": {
        const s = this.hostile(T.RewardSpec, { header: truth.header, text: this.instruction }, (x) => ({ ...x, text: mut.text(x.text) }));
        if (s) this.send(g, "spec", s);
        else this.stats.inc("messages");
        // The task itself is not under test: restore it before the clean frame is scored.
        this.send(g, "spec", { header: truth.header, text: this.instruction });
        return kind;
      }
    }
  }

  private cleanFrame(g: (typeof this.graphs)[number], after: Kind): void {
    this.cleanNs += PERIOD_NS;
    const { m } = this.frameAt(this.cleanNs);
    this.stats.inc("clean_frames");
    const errors = [g.perception.diagnostics.errors, g.reward.diagnostics.errors];
    const before = errors.map((e) => e.lastError);
    this.sendFrame(g, m);
    if (this.rewardStamps.get(g.ns) === this.cleanNs) this.stats.inc("clean_frames_rewarded");
    else if (this.unrewarded.length < 10) {
      const now = errors.map((e) => e.lastError);
      this.unrewarded.push(`${g.ns} after hostile ${after}: ${now.filter((x, i) => x !== before[i]).join(" | ") || "no new error"}`);
    }
  }

  private report(seconds: number): GraphFuzzReport {
    const rejections = new Counters();
    let internal = 0;
    for (const g of this.graphs) {
      for (const counters of [g.perception.perception.counters, g.spatial.counters, g.reward.counters]) {
        for (const [k, v] of Object.entries(counters.snapshot())) {
          if (k === "errors.internal") internal += v;
          if (k.startsWith("errors.") || k.startsWith("dropped.")) rejections.inc(k, v);
        }
      }
    }
    const messages = this.stats.get("messages");
    return {
      seed: this.seed,
      messages,
      hostile: this.stats.get("hostile"),
      cdr_rejected: this.stats.get("cdr_rejected"),
      clean_frames: this.stats.get("clean_frames"),
      clean_frames_rewarded: this.stats.get("clean_frames_rewarded"),
      unrewarded_samples: this.unrewarded,
      questions: this.stats.get("questions"),
      answers: this.answers,
      rejections: rejections.snapshot(),
      internal_errors: internal,
      internal_samples: this.internalSamples,
      callback_errors: this.transport.counters.get("callback_errors"),
      cdr_non_error_throws: this.stats.get("cdr_non_error_throws"),
      seconds: Math.round(seconds * 10) / 10,
      messages_per_s: Math.round(messages / seconds),
      rss_mb: Math.round(process.memoryUsage().rss / 1e6),
    };
  }

  async shutdown(): Promise<void> {
    await this.transport.shutdown();
  }
}
