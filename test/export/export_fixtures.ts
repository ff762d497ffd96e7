import { EpisodeWriter } from "../../nodes/recorder/episode_writer.js";
import { rewardToMsg, sceneToMsg } from "../../nodes/messages.js";
import { cameraMessages } from "../../nodes/sim_camera_node.js";
import { runCli } from "../../nodes/cli/run_cli.js";
import { MocapEmitter, NATNET_AXES, type MocapFrameTruth } from "../../sim/mocap_emitter.js";
import { RgbdSensor, teleopScenario, worldAt } from "../../sim/index.js";
import { decodeMocapFrame, encodeMocapFrame, mocapFileDescriptorSet, MOCAP_FRAME_TYPE } from "../../src/mocap/mocap_codec.js";
import { mocapFrameMessage } from "../../src/mocap/mocap_poses.js";
import { MocapValidator } from "../../src/mocap/mocap_validator.js";
import { Perception } from "../../src/perception/perception.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import { protobufChannel, rosChannel, type ChannelPlan } from "../../src/record/channel_plan.js";
import { parseRewardSpec } from "../../src/reward/parse_reward_spec.js";
import type { RewardResult } from "../../src/reward/reward_spec.js";
import { RewardTracker } from "../../src/reward/reward_tracker.js";
import type { Scene } from "../../src/scene/scene_object.js";
import { codecFor } from "../../src/transport/dds/codec_cache.js";
import { copyFrame } from "../perception/sim_frame.js";

/** Camera period of the fixtures (30 Hz) and the recorder's receive delays after a frame's stamp. */
export const CAMERA_PERIOD_NS = 33_333_333n;
const CAMERA_DELAY_NS = 4_000_000n;
const SCENE_DELAY_NS = 6_000_000n;
const REWARD_DELAY_NS = 7_000_000n;

export interface EpisodeOptions {
  seed: number;
  /** Frames of the scripted episode (≥ 20); the camera records those not in `dropFrames`. */
  frames: number;
  width?: number;
  height?: number;
  /** Camera frames the recording lacks (a camera that skipped them). */
  dropFrames?: readonly number[];
  camera?: boolean;
  masks?: boolean;
  scene?: boolean;
  rewards?: boolean;
  mocap?: boolean;
  /** Mocap rate (Hz). */
  mocapHz?: number;
  /**
   * How the mocap frames are recorded: "protobuf" (default) on /mocap/frames as the mocap system
   * sent them (ingest and recorder in one process), or "ros": the ingest's validated
   * spatial_reward_msgs/MocapFrame (REP-103 metres, header stamp = host mid-exposure) on
   * /mocap/sim/frame, all a recorder in its own process gets.
   */
  mocapAs?: "protobuf" | "ros";
  task?: string;
  /** "episode" metadata start time (its identity with the task, seed and operator). */
  startWallTimeNs?: bigint;
  /** How long after its exposure stamp the recorder receives a camera frame (default 4 ms; a real camera pipeline takes tens of ms). */
  cameraDelayNs?: bigint;
}

/** What a fixture episode holds, to check an export against. */
export interface FixtureEpisode {
  path: string;
  task: string;
  /** Recorded camera frames in order: scripted frame number, stamp, log time, the sim frame (own buffers). */
  camera: { frame: number; stamp: bigint; logTime: bigint; rgbd: RgbdFrame }[];
  /** Every mocap frame written: its log time and truth (REP-103 metres; exposureHostNs is its publish time). */
  mocap: { logTime: bigint; truth: MocapFrameTruth }[];
  /** The reward of each recorded camera frame, by stamp. */
  rewards: Map<bigint, RewardResult>;
  /** The perceived scene of each recorded camera frame (what scene/objects holds), by stamp. */
  scenes: Map<bigint, Scene>;
}

interface Pending {
  channel: number;
  logTime: bigint;
  publishTime: bigint;
  data: Uint8Array;
}

/**
 * A teleop episode as the recorder writes it: simulator camera frames (rgb, aligned depth,
 * camera_info, instance masks), the perception node's scene/objects, rewards on the true
 * scene stamped with each frame, and the mocap emitter's 240/120 Hz frames (NatNet y-up mm, as
 * streamed) on a protobuf channel, every message with the log time the recorder would give it
 * (camera 4 ms after the stamp, mocap at its host send time), through EpisodeWriter.
 */
export async function writeEpisode(path: string, o: EpisodeOptions): Promise<FixtureEpisode> {
  const width = o.width ?? 64, height = o.height ?? 48;
  const scenario = teleopScenario(o.seed, o.frames, { width, height });
  const task = o.task ?? scenario.episode.instruction;
  const emitter = new MocapEmitter(scenario, {
    rateHz: o.mocapHz ?? 120, axes: NATNET_AXES, seed: o.seed, occlusionProbability: 0, dropoutProbability: 0, jitterSpikeProbability: 0,
  });
  const t0 = emitter.hostStartNs;
  const plans: ChannelPlan[] = [];
  const id = (p: ChannelPlan): number => plans.push(p) - 1;
  const want = { camera: o.camera ?? true, masks: o.masks ?? true, scene: o.scene ?? true, rewards: o.rewards ?? true, mocap: o.mocap ?? true };
  const ch = {
    rgb: want.camera ? id(rosChannel("/camera/color/image_raw", "sensor_msgs/msg/Image")) : -1,
    depth: want.camera ? id(rosChannel("/camera/aligned_depth_to_color/image_raw", "sensor_msgs/msg/Image")) : -1,
    info: want.camera ? id(rosChannel("/camera/color/camera_info", "sensor_msgs/msg/CameraInfo")) : -1,
    masks: want.masks ? id(rosChannel("/camera/instances", "spatial_reward_msgs/msg/InstanceMasks")) : -1,
    scene: want.scene ? id(rosChannel("/scene/objects", "spatial_reward_msgs/msg/SceneObjects")) : -1,
    reward: want.rewards ? id(rosChannel("/reward", "spatial_reward_msgs/msg/Reward")) : -1,
    mocap: want.mocap && o.mocapAs !== "ros" ? id(protobufChannel("/mocap/frames", MOCAP_FRAME_TYPE, mocapFileDescriptorSet())) : -1,
    rosMocap: want.mocap && o.mocapAs === "ros" ? id(rosChannel(`/mocap/${emitter.options.streamId}/frame`, "spatial_reward_msgs/msg/MocapFrame")) : -1,
  };
  const out: Pending[] = [];
  const put = (channel: number, type: string, msg: unknown, logTime: bigint, publishTime: bigint) => {
    if (channel >= 0) out.push({ channel, logTime, publishTime, data: new Uint8Array(codecFor(type).encode(msg)) });
  };
  const fixture: FixtureEpisode = { path, task, camera: [], mocap: [], rewards: new Map(), scenes: new Map() };
  const sensor = new RgbdSensor({ noise: "none", seed: o.seed });
  const perception = new Perception();
  const tracker = new RewardTracker(parseRewardSpec(scenario.episode.instruction));
  const dropped = new Set(o.dropFrames ?? []);
  for (let f = 0; f < o.frames; f++) {
    const stamp = t0 + BigInt(f) * CAMERA_PERIOD_NS;
    const cap = sensor.capture(worldAt(scenario.world, scenario.episode.poses[f]), scenario.camera, stamp);
    const reward = tracker.update(cap.truth);
    if (dropped.has(f)) continue;
    const frame = copyFrame(cap.frame);
    delete frame.detections;
    const log = stamp + (o.cameraDelayNs ?? CAMERA_DELAY_NS);
    fixture.camera.push({ frame: f, stamp, logTime: log, rgbd: frame });
    const m = cameraMessages(frame, "camera_color_optical_frame");
    put(ch.rgb, "sensor_msgs/msg/Image", m.rgb, log, stamp);
    put(ch.depth, "sensor_msgs/msg/Image", m.depth, log, stamp);
    put(ch.info, "sensor_msgs/msg/CameraInfo", m.info, log, stamp);
    put(ch.masks, "spatial_reward_msgs/msg/InstanceMasks", m.masks, log, stamp);
    try {
      const scene = perception.process(frame);
      fixture.scenes.set(stamp, scene);
      put(ch.scene, "spatial_reward_msgs/msg/SceneObjects", sceneToMsg(scene, "spatial"), stamp + SCENE_DELAY_NS, stamp);
    } catch {
      // A frame perception rejects has no scene, as in a real recording.
    }
    fixture.rewards.set(stamp, reward);
    put(ch.reward, "spatial_reward_msgs/msg/Reward", rewardToMsg(reward, scenario.episode.instruction, "spatial"), stamp + REWARD_DELAY_NS, stamp);
  }
  const lastLog = t0 + BigInt(o.frames - 1) * CAMERA_PERIOD_NS + 50_000_000n;
  if (ch.mocap >= 0 || ch.rosMocap >= 0) {
    // As mocap_ingest: validated and converted, stamped with the exposure on the host clock.
    const validator = new MocapValidator({ streamId: emitter.options.streamId });
    const truths = new Map<bigint, MocapFrameTruth>();
    for (;;) {
      const { frame, truth } = emitter.emit();
      if (truth.sendHostNs > lastLog) break;
      fixture.mocap.push({ logTime: truth.sendHostNs, truth });
      const bytes = encodeMocapFrame(frame);
      if (ch.mocap >= 0) {
        out.push({ channel: ch.mocap, logTime: truth.sendHostNs, publishTime: truth.exposureHostNs, data: bytes });
        continue;
      }
      truths.set(frame.frame_number, truth);
      for (const v of validator.push(decodeMocapFrame(bytes), truth.sendHostNs)) {
        const t = truths.get(v.frame.frame_number)!;
        put(ch.rosMocap, "spatial_reward_msgs/msg/MocapFrame", mocapFrameMessage(v, t.exposureHostNs), t.sendHostNs, t.exposureHostNs);
      }
    }
    if (ch.rosMocap >= 0 && validator.pending() > 0) throw new Error("fixture: the validator held mocap frames back");
  }
  out.sort((a, b) => (a.logTime < b.logTime ? -1 : a.logTime > b.logTime ? 1 : 0));
  const writer = await EpisodeWriter.create(path, plans, {
    task, operator: "fixture", seed: BigInt(o.seed), calibration: "", clockOffsetNs: null, clockDriftPpm: null,
    startWallTimeNs: o.startWallTimeNs ?? t0, softwareVersion: "spatial-reward test", extra: {},
  }, { chunkSize: 256 * 1024, compression: "zstd" });
  for (const p of out) writer.write(p.channel, p.logTime, p.data, p.publishTime);
  const r = await writer.close();
  if (!r.ok) throw r.error ?? new Error("episode not written");
  return fixture;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `spatial-reward ARGS` in this process (runCli), capturing what it prints. */
export async function cli(args: string[]): Promise<CliRun> {
  let stdout = "", stderr = "";
  const log = console.log;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (...a: unknown[]) => {
    stdout += `${a.map(String).join(" ")}\n`;
  };
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await runCli(args);
    return { code, stdout, stderr };
  } finally {
    console.log = log;
    process.stderr.write = write;
  }
}
