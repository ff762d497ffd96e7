import { basename } from "node:path";
import { InvalidInputError, SpatialRewardError } from "../../src/errors.js";
import type { PinholeIntrinsics } from "../../src/geometry/intrinsics.js";
import { Perception } from "../../src/perception/perception.js";
import { perceptionKernels } from "../perception/native_perception_kernels.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import { cameraTopics } from "../../src/record/camera_topics.js";
import { decodeRos, type RecordedChannel, type RecordedMessage } from "../../src/record/episode_reader.js";
import { packedRgb } from "../../src/scene/packed_rgb.js";
import { validateScene } from "../../src/scene/scene_validation.js";
import type { Scene } from "../../src/scene/scene_object.js";
import { QUESTION_TYPE_IDS } from "../../src/spatial/question_types.js";
import type { Split } from "../../src/vqa/dataset_split.js";
import { EXPORT_FORMAT, EXPORT_VERSION, imagePath, VQA_GENERATOR_VERSION, type ProgressRecord } from "../../src/vqa/export_format.js";
import {
  recordedFrameImageId, recordedFrameVqa, recordingEpisodeId, recordingSplit, type FrameReward, type RecordedSegmentation,
} from "../../src/vqa/recording_vqa.js";
import { openEpisode, type OpenEpisode } from "../recorder/episode_file.js";
import { episodePaths } from "../recorder/episode_paths.js";
import { detectionsFromMsg, instanceMaskFromMsg, intrinsicsFromCameraInfo, sceneFromMsg, stampOf } from "../messages.js";
import { ExportDir, JsonLines, yieldToEventLoop } from "./export_output.js";
import { packageVersion } from "./package_version.js";
import { encodeRgbPng } from "./png_image.js";
import { Progress } from "./progress.js";

export const SEGMENTATION_CHOICES = ["auto", "masks", "detections", "scene"] as const;
export type SegmentationChoice = (typeof SEGMENTATION_CHOICES)[number];
export const SPLIT_CHOICES = ["auto", "train", "val", "test"] as const;

export interface ExportRecordingVqaOptions {
  out: string;
  camera: string;
  segmentation: SegmentationChoice;
  split: (typeof SPLIT_CHOICES)[number];
  /** Label every stride-th camera frame. */
  stride: number;
  perType: number;
  rewardTopic: string;
  json: boolean;
}

const SCENE_TOPIC = "scene/objects";

interface Sources {
  segmentation: RecordedSegmentation;
  rgb: RecordedChannel;
  depth?: RecordedChannel;
  info?: RecordedChannel;
  seg?: RecordedChannel;
  scene?: RecordedChannel;
  reward?: RecordedChannel;
}

function fail(path: string, message: string): never {
  throw new InvalidInputError("bad_argument", `${path}: ${message}`);
}

/**
 * Which segmentation labels an episode's frames: recorded instance masks (perception on the
 * RGB-D, as the perception node runs), else recorded 2D detections (the same, from boxes),
 * else the recorded scene graph (scene/objects: the perception node's output when it was
 * recorded). `choice` forces one; what it needs must be in the file.
 */
function sources(ep: OpenEpisode, o: ExportRecordingVqaOptions): Sources {
  const { reader, path } = ep;
  const t = cameraTopics(o.camera);
  const list = () => reader.channels.map((c) => c.topic).join(", ") || "none";
  const rgb = reader.channel(t.rgb);
  if (!rgb) fail(path, `no camera topic ${t.rgb} (channels: ${list()}); --camera names the camera`);
  const reward = reader.channel(o.rewardTopic);
  const masks = reader.channel(t.masks), dets = reader.channel(t.detections), scene = reader.channel(SCENE_TOPIC);
  const depth = reader.channel(t.depth), info = reader.channel(t.info);
  const want = o.segmentation === "auto" ? (masks ? "masks" : dets ? "detections" : scene ? "scene" : null) : o.segmentation;
  if (want === null) fail(path, `nothing to label its frames with: no ${t.masks} (InstanceMasks), ${t.detections} (Detection2DArray) or ${SCENE_TOPIC} (SceneObjects) (channels: ${list()})`);
  if (want === "scene") {
    if (!scene) fail(path, `--segmentation scene: no ${SCENE_TOPIC} topic (channels: ${list()})`);
    return { segmentation: "scene_objects", rgb, scene, reward };
  }
  const seg = want === "masks" ? masks : dets;
  if (!seg) fail(path, `--segmentation ${want}: no ${want === "masks" ? t.masks : t.detections} topic (channels: ${list()})`);
  if (!depth) fail(path, `no depth topic ${t.depth}: the engine lifts ${want} to 3D with depth (channels: ${list()})`);
  if (!info) fail(path, `no camera_info topic ${t.info}: the engine needs the intrinsics (channels: ${list()})`);
  return { segmentation: want, rgb, depth, info, seg, reward };
}

function rewardOf(m: RecordedMessage): { stamp: bigint; reward: FrameReward } {
  const r = decodeRos(m, "spatial_reward_msgs/msg/Reward");
  return {
    stamp: stampOf(r),
    reward: { reward: r.reward, progress: r.progress, success: r.success, residual: Number.isFinite(r.residual) ? r.residual : null, spec: r.spec },
  };
}

interface EpisodeCounts {
  file: string;
  episode: string;
  task: string;
  split: Split;
  segmentation: RecordedSegmentation;
  camera_frames: number;
  labelled_frames: number;
  questions: number;
  frames_without_reward: number;
  /** Frames the engine could not make a scene of, by error code (or "no_scene", "incomplete_frame"). */
  skipped_frames: Record<string, number>;
  skipped_messages: number;
}

const bump = (r: Record<string, number>, k: string, n = 1): void => {
  r[k] = (r[k] ?? 0) + n;
};

/** Writes the export (options checked by export_command.ts). */
export async function runRecordingVqa(args: readonly string[], o: ExportRecordingVqaOptions): Promise<number> {
  const t0 = performance.now();
  const paths = episodePaths(args);
  const progress = new Progress(250, process.stderr.isTTY === true);

  // Every episode opens and has what labelling needs before anything is written.
  const plans: { path: string; id: string; task: string }[] = [];
  const ids = new Set<string>();
  for (const path of paths) {
    const ep = await openEpisode(path);
    try {
      sources(ep, o);
      const id = recordingEpisodeId(ep.reader.metadata, basename(path));
      if (ids.has(id)) fail(path, `is the same episode (${id}: same start time, seed, task and operator) as another one given`);
      ids.add(id);
      plans.push({ path, id, task: ep.reader.metadata?.task ?? "" });
    } finally {
      ep.close();
    }
  }

  const dir = new ExportDir(o.out);
  const perEpisode: EpisodeCounts[] = [];
  const skippedQuestions: Record<string, number> = {};
  const unanswered: Record<string, number> = {};
  const byType: Record<string, number> = Object.fromEntries(QUESTION_TYPE_IDS.map((t) => [t, 0]));
  const splitCount = (): Record<Split | "total", number> => ({ train: 0, val: 0, test: 0, total: 0 });
  const counts = { episodes: splitCount(), images: splitCount(), vqa: splitCount(), progress_frames: splitCount() };
  const add = (c: Record<Split | "total", number>, s: Split, n = 1) => {
    c[s] += n;
    c.total += n;
  };
  let bytes = 0;
  try {
    const vqaFile = new JsonLines(dir.path("vqa.jsonl"));
    const progressFile = new JsonLines(dir.path("progress.jsonl"));
    for (const [e, plan] of plans.entries()) {
      const ep = await openEpisode(plan.path);
      // Channels are compared by identity: take them from this reader, not the planning one.
      const src = sources(ep, o);
      const split: Split = o.split === "auto" ? recordingSplit(plan.id) : o.split;
      add(counts.episodes, split);
      const c: EpisodeCounts = {
        file: plan.path, episode: plan.id, task: plan.task, split, segmentation: src.segmentation,
        camera_frames: 0, labelled_frames: 0, questions: 0, frames_without_reward: 0, skipped_frames: {}, skipped_messages: 0,
      };
      perEpisode.push(c);
      try {
        // Pass 1: the small topics, by stamp.
        const rewards = new Map<bigint, FrameReward>();
        const scenes = new Map<bigint, Scene>();
        const infos: { logTime: bigint; stamp: bigint; k: PinholeIntrinsics }[] = [];
        let task = plan.task;
        const small = [src.reward, src.scene, src.info].filter((ch): ch is RecordedChannel => ch !== undefined).map((ch) => ch.topic);
        for await (const m of ep.reader.messages(small)) {
          try {
            if (m.channel === src.reward) {
              const r = rewardOf(m);
              rewards.set(r.stamp, r.reward);
              if (!task) task = r.reward.spec;
            } else if (m.channel === src.scene) {
              const s = validateScene(sceneFromMsg(decodeRos(m, "spatial_reward_msgs/msg/SceneObjects")));
              scenes.set(s.stamp, s);
            } else if (m.channel === src.info) {
              const info = decodeRos(m, "sensor_msgs/msg/CameraInfo");
              infos.push({ logTime: m.logTime, stamp: stampOf(info), k: intrinsicsFromCameraInfo(info) });
            }
          } catch (err) {
            if (!(err instanceof SpatialRewardError)) throw err;
            c.skipped_messages++;
          }
        }
        c.task = task;
        const intrinsicsAt = (stamp: bigint, logTime: bigint): PinholeIntrinsics | null => {
          let best: PinholeIntrinsics | null = null;
          for (const i of infos) {
            if (i.stamp === stamp) return i.k;
            if (i.logTime <= logTime || best === null) best = i.k;
          }
          return best;
        };

        // Pass 2: the camera frames (with depth and segmentation joined by stamp), in order.
        const perception = new Perception({ kernels: perceptionKernels() });
        const frameTopics = [src.rgb, src.depth, src.seg].filter((ch): ch is RecordedChannel => ch !== undefined).map((ch) => ch.topic);
        type Parts = { frame: number; logTime: bigint; rgb?: RecordedMessage; depth?: RecordedMessage; seg?: RecordedMessage };
        const pending = new Map<bigint, Parts>();
        let frameNo = 0;
        const complete = (p: Parts) => p.rgb !== undefined && (src.segmentation === "scene_objects" || (p.depth !== undefined && p.seg !== undefined));
        const label = async (stamp: bigint, p: Parts): Promise<void> => {
          const wanted = p.frame % o.stride === 0;
          let scene: Scene | null = null;
          try {
            if (src.segmentation === "scene_objects") {
              if (!wanted) return;
              scene = scenes.get(stamp) ?? null;
              if (!scene) {
                bump(c.skipped_frames, "no_scene");
                return;
              }
            } else {
              const k = intrinsicsAt(stamp, p.logTime);
              if (!k) {
                bump(c.skipped_frames, "no_camera_info");
                return;
              }
              const frame: RgbdFrame = { stamp, intrinsics: k, rgb: decodeRos(p.rgb!, "sensor_msgs/msg/Image"), depth: decodeRos(p.depth!, "sensor_msgs/msg/Image") };
              if (src.segmentation === "masks") frame.instances = instanceMaskFromMsg(decodeRos(p.seg!, "spatial_reward_msgs/msg/InstanceMasks"));
              else frame.detections = detectionsFromMsg(decodeRos(p.seg!, "vision_msgs/msg/Detection2DArray"));
              // Every frame goes through perception (its tracks and support plane follow the
              // episode, as the node's do); every stride-th frame is labelled.
              scene = perception.process(frame);
              if (!wanted) return;
            }
            const image = decodeRos(p.rgb!, "sensor_msgs/msg/Image");
            const rgb = packedRgb(image);
            const { width, height } = image;
            const reward = rewards.get(stamp) ?? null;
            if (!reward) c.frames_without_reward++;
            const vqa = recordedFrameVqa(scene, { episodeId: plan.id, frame: p.frame, stamp, split, segmentation: src.segmentation, reward, perType: o.perType });
            const id = recordedFrameImageId(plan.id, p.frame);
            bytes += dir.writeNew(imagePath(id), encodeRgbPng({ width, height, data: rgb }));
            for (const r of vqa.records) {
              vqaFile.write(r);
              byType[r.question_type] = (byType[r.question_type] ?? 0) + 1;
            }
            for (const [k, v] of Object.entries(vqa.skipped)) bump(skippedQuestions, k, v ?? 0);
            for (const [k, v] of Object.entries(vqa.unanswered)) bump(unanswered, k, v);
            add(counts.images, split);
            add(counts.vqa, split, vqa.records.length);
            c.questions += vqa.records.length;
            c.labelled_frames++;
            if (reward) {
              const line: ProgressRecord = { image: imagePath(id), episode: plan.id, frame: p.frame, progress: reward.progress, task, split };
              progressFile.write(line);
              add(counts.progress_frames, split);
            }
          } catch (err) {
            // A frame the engine cannot use (no support plane, empty mask, bad image...) is counted and skipped.
            if (!(err instanceof SpatialRewardError)) throw err;
            bump(c.skipped_frames, err.code);
          }
        };
        for await (const m of ep.reader.messages(frameTopics)) {
          const stamp = m.publishTime;
          let p = pending.get(stamp);
          if (!p) {
            p = { frame: -1, logTime: m.logTime };
            pending.set(stamp, p);
          }
          if (m.channel === src.rgb) {
            p.rgb = m;
            p.frame = frameNo++;
            p.logTime = m.logTime;
          } else if (m.channel === src.depth) p.depth = m;
          else p.seg = m;
          // Frames complete in stamp order; a part that never comes leaves its frame behind a few frames later.
          for (const [s, q] of pending) {
            if (complete(q)) {
              pending.delete(s);
              await label(s, q);
            } else if (pending.size > 8) {
              pending.delete(s);
              if (q.rgb) bump(c.skipped_frames, "incomplete_frame");
            } else break;
          }
          progress.update(`episode ${e + 1}/${plans.length}: frame ${frameNo}, ${c.questions} questions`);
          await yieldToEventLoop();
        }
        for (const q of pending.values()) if (q.rgb) bump(c.skipped_frames, "incomplete_frame");
        c.camera_frames = frameNo;
      } finally {
        ep.close();
      }
    }
    vqaFile.close();
    progressFile.close();
    bytes += vqaFile.bytes + progressFile.bytes;
    const meta = {
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      source: "recording",
      counts: { ...counts, vqa_by_type: byType, skipped_questions: skippedQuestions, unanswered },
      episodes: perEpisode,
      split_rule: o.split === "auto" ? "by episode identity (start time, seed, task, operator): FNV-1a mod 10, 0 val, 1 test, else train" : `all ${o.split} (--split)`,
      generator: {
        name: "spatial-reward",
        version: packageVersion(),
        vqa_generator_version: VQA_GENERATOR_VERSION,
        question_types: [...QUESTION_TYPE_IDS],
        per_type: o.perType,
        stride: o.stride,
        labels: "answerQuestion (src/spatial) on each labelled frame's scene: perception on the recorded RGB-D with the recorded instance masks or 2D detections, or the recorded scene/objects graph (meta episodes[].segmentation)",
        progress: `Reward.progress of the frame (the ${o.rewardTopic} message stamped with it)`,
      },
      files: { images: "images/<id>.png", vqa: "vqa.jsonl", progress: "progress.jsonl" },
    };
    dir.writeLast("meta.json", `${JSON.stringify(meta, null, 2)}\n`);
  } catch (err) {
    dir.abandon();
    throw err;
  } finally {
    progress.done();
  }
  const seconds = (performance.now() - t0) / 1000;
  for (const c of perEpisode) {
    const skipped = Object.values(c.skipped_frames).reduce((a, b) => a + b, 0);
    if (skipped > 0) process.stderr.write(`spatial-reward export vqa: ${c.file}: ${skipped} frames not labelled (${JSON.stringify(c.skipped_frames)})\n`);
  }
  const summary = {
    out: o.out, episodes: counts.episodes.total, images: counts.images.total, questions: counts.vqa.total,
    progress_frames: counts.progress_frames.total, bytes, seconds: Math.round(seconds * 100) / 100, per_episode: perEpisode,
  };
  if (o.json) console.log(JSON.stringify(summary));
  else {
    console.log(`${o.out}: ${counts.images.total} frames from ${counts.episodes.total} recorded episodes, ${counts.vqa.total} questions (train ${counts.vqa.train}, val ${counts.vqa.val}, test ${counts.vqa.test}), ${counts.progress_frames.total} progress frames`);
    console.log(`${(bytes / 1e6).toFixed(1)} MB, ${seconds.toFixed(1)} s`);
  }
  return 0;
}
