import { statSync } from "node:fs";
import { InvalidInputError, SpatialRewardError } from "../../src/errors.js";
import { episodeFrames, medianRateHz, type EpisodeFrames, type FramesReport, type PoseTrack, type RewardTrack } from "../../src/lerobot/episode_frames.js";
import { bodyPose, continueQuaternionSign, rosBodyPose, STATE_DIM, type BodyPoseStatus } from "../../src/lerobot/hand_state.js";
import {
  cameraKey, episodeDataPath, episodeVideoPath, framePngName, infoJson, lerobotFeatures, type Feature, type VideoInfo,
} from "../../src/lerobot/lerobot_format.js";
import { boolStats, ImageStatsAccumulator, numericStats, type FeatureStats } from "../../src/lerobot/lerobot_stats.js";
import { decodeMocap, decodeRos, mocapChannel, ROS_MOCAP_FRAME_TYPE, rosMocapChannels, type RecordedChannel } from "../../src/record/episode_reader.js";
import { stampFromRos } from "../../src/time/ros_time.js";
import { cameraTopics } from "../../src/record/camera_topics.js";
import { RecordingFormatError } from "../../src/record/recording_errors.js";
import { packedRgb } from "../../src/scene/packed_rgb.js";
import { openEpisode, type OpenEpisode } from "../recorder/episode_file.js";
import { episodePaths } from "../recorder/episode_paths.js";
import { ExportDir, JsonLines, yieldToEventLoop } from "./export_output.js";
import { ffmpegVersion, probeVideo, VideoEncoder, videoCodec } from "./ffmpeg_video.js";
import { EpisodeParquet } from "./lerobot_parquet.js";
import { packageVersion } from "./package_version.js";
import { encodeRgbPng } from "./png_image.js";
import { Progress } from "./progress.js";

export interface ExportLerobotOptions {
  out: string;
  /** Dataset fps; default the first episode's camera rate, rounded. */
  fps?: number;
  camera: string;
  video: boolean;
  robotType: string;
  body: string;
  rewardTopic: string;
  json: boolean;
}

/** Rows per parquet row group with embedded PNGs (what `datasets` uses for image datasets). */
const IMAGE_ROW_GROUP = 100;
/** An episode whose camera runs slower than this fraction of the dataset fps would repeat most frames. */
const MIN_RATE_FRACTION = 0.9;

interface PlannedEpisode {
  path: string;
  task: string;
  rateHz: number;
  camera: { logTimes: BigInt64Array; stamps: BigInt64Array };
  width: number;
  height: number;
  poses: PoseTrack;
  rewards: RewardTrack;
  poseStatus: Partial<Record<BodyPoseStatus | "undecodable", number>>;
  badRewards: number;
}

function fail(path: string, message: string): never {
  throw new InvalidInputError("bad_argument", `${path}: ${message}`);
}

function channelList(ep: OpenEpisode): string {
  return ep.reader.channels.map((c) => c.topic).join(", ") || "none";
}

/**
 * Pass 1 over an episode: camera log times and stamps (the first image for its size), the
 * state body's pose at every mocap sample, every reward. Nothing is written: a bad episode
 * stops the export before it starts.
 */
async function planEpisode(ep: OpenEpisode, o: ExportLerobotOptions): Promise<PlannedEpisode> {
  const { reader, path } = ep;
  const imageTopic = cameraTopics(o.camera).rgb;
  const cam = reader.channel(imageTopic);
  if (!cam) fail(path, `no camera topic ${imageTopic} (channels: ${channelList(ep)}); --camera names the camera`);
  if (cam.schemaName !== "sensor_msgs/msg/Image" || cam.messageEncoding !== "cdr") fail(path, `${cam.topic} is ${cam.schemaName} as ${cam.messageEncoding}, not sensor_msgs/msg/Image as cdr`);
  // The frames as the mocap system sent them (protobuf, recorded beside the ingest in one
  // process); else the ingest's ROS MocapFrame topics (a recorder in its own process).
  const mocap = mocapChannel(reader);
  const rosMocap = mocap ? [] : rosMocapChannels(reader);
  if (!mocap && rosMocap.length === 0) {
    fail(path, `no mocap channel (protobuf spatial_reward.mocap.MocapFrame, or ${ROS_MOCAP_FRAME_TYPE} on mocap/<stream>/frame; channels: ${channelList(ep)})`);
  }
  const mocapTopics = mocap ? [mocap.topic] : rosMocap.map((c) => c.topic);
  const reward: RecordedChannel | undefined = reader.channel(o.rewardTopic);
  if (reward && reward.schemaName !== "spatial_reward_msgs/msg/Reward") fail(path, `${reward.topic} is ${reward.schemaName}, not spatial_reward_msgs/msg/Reward`);
  const spec = reader.channel("reward/spec");

  const camLog: bigint[] = [], camStamp: bigint[] = [];
  let width = 0, height = 0;
  const poseTimes: bigint[] = [], poseValues: number[] = [];
  const poseStatus: PlannedEpisode["poseStatus"] = {};
  const rStamps: bigint[] = [], rValues: number[] = [], rSuccess: number[] = [];
  let badRewards = 0;
  let specText = "";
  const pose = new Float64Array(STATE_DIM);
  let previous: Float64Array | null = null;
  const topics = [cam.topic, ...mocapTopics, ...(reward ? [reward.topic] : []), ...(spec ? [spec.topic] : [])];
  for await (const m of reader.messages(topics)) {
    if (m.channel === cam) {
      if (camLog.length === 0) {
        const img = decodeRos(m, "sensor_msgs/msg/Image");
        try {
          packedRgb(img);
        } catch (e) {
          fail(path, `${cam.topic}: ${e instanceof Error ? e.message : String(e)}`);
        }
        width = img.width;
        height = img.height;
      }
      camLog.push(m.logTime);
      camStamp.push(m.publishTime);
    } else if (m.channel === mocap || rosMocap.includes(m.channel)) {
      let status: BodyPoseStatus | "undecodable";
      // Mid-exposure on the host clock, as camera stamps are: the protobuf channel's publish
      // time (the recorder writes the ingest's stamp there), a MocapFrame's header stamp.
      let stamp = m.publishTime;
      try {
        if (m.channel === mocap) status = bodyPose(decodeMocap(m), o.body, pose);
        else {
          const frame = decodeRos(m, ROS_MOCAP_FRAME_TYPE);
          stamp = stampFromRos(frame.header.stamp);
          status = rosBodyPose(frame, o.body, pose);
        }
      } catch (e) {
        if (e instanceof SpatialRewardError && e.code === "bad_axes") fail(path, `${m.channel.topic}: ${e.message}`);
        status = "undecodable";
      }
      poseStatus[status] = (poseStatus[status] ?? 0) + 1;
      if (status !== "ok") continue;
      continueQuaternionSign(pose, previous);
      previous = Float64Array.from(pose);
      poseTimes.push(stamp);
      for (const v of pose) poseValues.push(v);
    } else if (reward && m.channel === reward) {
      try {
        const r = decodeRos(m, "spatial_reward_msgs/msg/Reward");
        if (!Number.isFinite(r.reward)) throw new InvalidInputError("bad_message", "non-finite reward");
        rStamps.push(BigInt(r.header.stamp.sec) * 1_000_000_000n + BigInt(r.header.stamp.nanosec));
        rValues.push(r.reward);
        rSuccess.push(r.success ? 1 : 0);
        if (!specText) specText = r.spec;
      } catch {
        badRewards++;
      }
    } else if (spec && m.channel === spec && !specText) {
      try {
        specText = decodeRos(m, "spatial_reward_msgs/msg/RewardSpec").text;
      } catch {
        // The task falls back to the metadata or a placeholder; a bad spec message costs nothing else.
      }
    }
  }
  if (camLog.length === 0) fail(path, `no camera frame on ${cam.topic}`);
  if (poseTimes.length === 0) {
    const seen = Object.entries(poseStatus).map(([k, v]) => `${k} ${v}`).join(", ") || "no mocap frame";
    fail(path, `no usable pose of rigid body ${JSON.stringify(o.body)} on ${mocapTopics.join(", ")} (${seen}); --body names the body`);
  }
  const poses = byStamp(poseTimes, poseValues);
  const camera = { logTimes: BigInt64Array.from(camLog), stamps: BigInt64Array.from(camStamp) };
  const rate = medianRateHz(camera.logTimes);
  const task = reader.metadata?.task || specText || "unspecified task";
  return {
    path, task, rateHz: rate ?? 0, camera, width, height,
    poses,
    rewards: { stamps: BigInt64Array.from(rStamps), reward: Float64Array.from(rValues), success: Uint8Array.from(rSuccess) },
    poseStatus, badRewards,
  };
}

/**
 * The pose samples ordered by stamp (the nearest-sample search needs it). They arrive in log
 * order, which is stamp order unless the ingest's clock estimate restarted mid-episode.
 */
function byStamp(stamps: bigint[], values: number[]): PoseTrack {
  const order = Array.from(stamps.keys());
  if (stamps.some((t, i) => i > 0 && t < stamps[i - 1])) order.sort((a, b) => (stamps[a] < stamps[b] ? -1 : stamps[a] > stamps[b] ? 1 : a - b));
  const out: PoseTrack = { stamps: BigInt64Array.from(order, (i) => stamps[i]), values: new Float64Array(values.length) };
  order.forEach((i, k) => out.values.set(values.slice(i * STATE_DIM, (i + 1) * STATE_DIM), k * STATE_DIM));
  return out;
}

interface EpisodeSummary extends FramesReport {
  episode_index: number;
  file: string;
  task: string;
  length: number;
  camera_rate_hz: number;
  mocap: Partial<Record<BodyPoseStatus | "undecodable", number>>;
  bad_rewards: number;
}

/** The numeric columns' stats (the image's come from the frames). */
function rowStats(f: EpisodeFrames, episodeIndex: number, taskIndex: number, firstIndex: number): Record<string, FeatureStats> {
  const n = f.length;
  const ints = (fn: (k: number) => number) => numericStats(Float64Array.from({ length: n }, (_, k) => fn(k)), n, 1, false);
  return {
    "observation.state": numericStats(f.state, n, STATE_DIM, true),
    action: numericStats(f.action, n, STATE_DIM, true),
    timestamp: numericStats(f.timestamp, n, 1, true),
    frame_index: ints((k) => k),
    episode_index: ints(() => episodeIndex),
    index: ints((k) => firstIndex + k),
    task_index: ints(() => taskIndex),
    "next.reward": numericStats(f.reward, n, 1, true),
    "next.done": boolStats(f.done),
    "next.success": boolStats(f.success),
  };
}

/** The parquet columns of rows [from, to). */
function rowColumns(f: EpisodeFrames, from: number, to: number, episodeIndex: number, taskIndex: number, firstIndex: number): Record<string, unknown[]> {
  const rows = Array.from({ length: to - from }, (_, i) => from + i);
  const vec = (a: Float32Array) => rows.map((k) => Array.from(a.subarray(k * STATE_DIM, (k + 1) * STATE_DIM)));
  return {
    "observation.state": vec(f.state),
    action: vec(f.action),
    timestamp: rows.map((k) => f.timestamp[k]),
    frame_index: rows.map((k) => BigInt(k)),
    episode_index: rows.map(() => BigInt(episodeIndex)),
    index: rows.map((k) => BigInt(firstIndex + k)),
    task_index: rows.map(() => BigInt(taskIndex)),
    "next.reward": rows.map((k) => f.reward[k]),
    "next.done": rows.map((k) => f.done[k] === 1),
    "next.success": rows.map((k) => f.success[k] === 1),
  };
}

/** Writes the dataset (options checked by export_command.ts: --out is new or empty, --fps in range). */
export async function runLerobot(args: readonly string[], o: ExportLerobotOptions): Promise<number> {
  const t0 = performance.now();
  const videoKey = cameraKey(o.camera);
  if (o.video && ffmpegVersion() === null) {
    throw new InvalidInputError("backend_unavailable", "--video needs ffmpeg on PATH (Debian: apt-get install ffmpeg); --images embeds PNG frames instead");
  }
  const paths = episodePaths(args);
  const progress = new Progress(250, process.stderr.isTTY === true);

  // Pass 1 over every episode before anything is written.
  const planned: PlannedEpisode[] = [];
  for (const [i, path] of paths.entries()) {
    const ep = await openEpisode(path);
    try {
      planned.push(await planEpisode(ep, o));
    } finally {
      ep.close();
    }
    progress.update(`reading ${i + 1}/${paths.length}: ${path}`);
  }
  const first = planned[0];
  const fps = o.fps ?? Math.round(first.rateHz);
  if (!(fps >= 1)) throw new InvalidInputError("bad_argument", `${first.path}: the camera rate cannot be measured (${first.camera.logTimes.length} frame): give --fps`);
  for (const p of planned) {
    if (p.width !== first.width || p.height !== first.height) {
      throw new InvalidInputError("bad_argument", `${p.path}: its camera is ${p.width}x${p.height}, ${first.path}'s ${first.width}x${first.height}: one dataset has one image shape`);
    }
    if (p.camera.logTimes.length > 1 && p.rateHz < MIN_RATE_FRACTION * fps) {
      throw new InvalidInputError("bad_argument", `${p.path}: its camera runs at ${p.rateHz.toFixed(1)} Hz, below the dataset's ${fps} fps (frames would repeat): give --fps ${Math.max(1, Math.floor(p.rateHz))} or lower`);
    }
  }
  if (o.video && (first.width % 2 !== 0 || first.height % 2 !== 0)) {
    throw new InvalidInputError("bad_image_size", `--video needs an even width and height (yuv420p); the camera is ${first.width}x${first.height}: use --images`);
  }

  const codec = o.video ? videoCodec(first.width, first.height) : null;
  if (o.video && codec === null) throw new InvalidInputError("backend_unavailable", "--video needs an ffmpeg with libsvtav1 or libx264; --images embeds PNG frames instead");

  const tasks: string[] = [];
  for (const p of planned) if (!tasks.includes(p.task)) tasks.push(p.task);

  let videoInfo: VideoInfo | null = o.video
    ? { "video.fps": fps, "video.height": first.height, "video.width": first.width, "video.channels": 3, "video.codec": codec === "libsvtav1" ? "av1" : "h264", "video.pix_fmt": "yuv420p", "video.is_depth_map": false, has_audio: false }
    : null;
  let features: Record<string, Feature> = lerobotFeatures(o.camera, first.width, first.height, videoInfo);
  const createdBy = `spatial-reward ${packageVersion()} (hyparquet-writer)`;

  const dir = new ExportDir(o.out);
  const summaries: EpisodeSummary[] = [];
  let totalFrames = 0;
  let bytes = 0;
  try {
    const episodesFile = new JsonLines(dir.path("meta/episodes.jsonl"));
    const statsFile = new JsonLines(dir.path("meta/episodes_stats.jsonl"));
    const tasksFile = new JsonLines(dir.path("meta/tasks.jsonl"));
    for (const [t, task] of tasks.entries()) tasksFile.write({ task_index: t, task });
    tasksFile.close();

    for (const [e, p] of planned.entries()) {
      const frames = episodeFrames(p.camera, p.poses, p.rewards, fps);
      const taskIndex = tasks.indexOf(p.task);
      const parquetPath = dir.prepare(episodeDataPath(e));
      const parquet = new EpisodeParquet(parquetPath, features, createdBy);
      const imageStats = new ImageStatsAccumulator(frames.length, p.width, p.height);
      const video = o.video && codec ? new VideoEncoder(dir.prepare(episodeVideoPath(videoKey, e)), p.width, p.height, fps, codec) : null;
      let groupStart = 0;
      let pending: { bytes: Uint8Array; path: string }[] = [];
      let row = 0;
      const ep = await openEpisode(p.path);
      try {
        let cameraIndex = -1;
        let rgb: Uint8Array = new Uint8Array(0);
        let png: Uint8Array | null = null;
        for await (const m of ep.reader.messages([cameraTopics(o.camera).rgb])) {
          cameraIndex++;
          if (row >= frames.length) break;
          if (frames.cameraIndex[row] !== cameraIndex) continue;
          try {
            rgb = packedRgb(decodeRos(m, "sensor_msgs/msg/Image"), rgb);
          } catch (err) {
            fail(p.path, `camera frame ${cameraIndex}: ${err instanceof Error ? err.message : String(err)}`);
          }
          if (rgb.length !== p.width * p.height * 3) fail(p.path, `camera frame ${cameraIndex} is not ${p.width}x${p.height}`);
          png = video ? null : encodeRgbPng({ width: p.width, height: p.height, data: rgb });
          // One camera frame can fill several rows (the camera skipped a slot of the fps grid).
          while (row < frames.length && frames.cameraIndex[row] === cameraIndex) {
            imageStats.add(row, rgb);
            if (video) await video.write(rgb);
            else pending.push({ bytes: png!, path: framePngName(row) });
            row++;
            if (!video && row - groupStart === IMAGE_ROW_GROUP) {
              parquet.write({ ...rowColumns(frames, groupStart, row, e, taskIndex, totalFrames), [videoKey]: pending });
              groupStart = row;
              pending = [];
            }
          }
          progress.update(`episode ${e + 1}/${planned.length}: frame ${row}/${frames.length}`);
          await yieldToEventLoop();
        }
      } catch (err) {
        video?.kill();
        throw err;
      } finally {
        ep.close();
      }
      if (row !== frames.length) throw new RecordingFormatError(`${p.path}: the camera topic ended after ${row} of ${frames.length} rows (the file changed while it was exported?)`, 0);
      const rest = rowColumns(frames, groupStart, row, e, taskIndex, totalFrames);
      parquet.write(video ? rest : { ...rest, [videoKey]: pending });
      parquet.finish();
      bytes += statSync(parquetPath).size;
      if (video) {
        const written = await video.finish();
        const probed = probeVideo(video.path);
        if (probed.frames !== written) throw new SpatialRewardError("internal", `${video.path} holds ${probed.frames} frames, ${written} were encoded`);
        bytes += statSync(video.path).size;
        if (e === 0 && videoInfo) {
          // What the file is, as LeRobot's get_video_info reads it with ffprobe.
          videoInfo = { ...videoInfo, "video.codec": probed.codec, "video.pix_fmt": probed.pixFmt, "video.height": probed.height, "video.width": probed.width };
          features = lerobotFeatures(o.camera, first.width, first.height, videoInfo);
        }
      }
      episodesFile.write({ episode_index: e, tasks: [p.task], length: frames.length });
      statsFile.write({ episode_index: e, stats: { ...rowStats(frames, e, taskIndex, totalFrames), [videoKey]: imageStats.stats() } });
      summaries.push({
        episode_index: e, file: p.path, task: p.task, length: frames.length, camera_rate_hz: Math.round(p.rateHz * 100) / 100,
        ...frames.report, mocap: p.poseStatus, bad_rewards: p.badRewards,
      });
      totalFrames += frames.length;
    }
    episodesFile.close();
    statsFile.close();
    const info = infoJson(o.robotType, fps, features, { episodes: planned.length, frames: totalFrames, tasks: tasks.length, videos: o.video ? planned.length : 0 });
    dir.writeLast("meta/info.json", `${JSON.stringify(info, null, 4)}\n`);
  } catch (err) {
    dir.abandon();
    throw err;
  } finally {
    progress.done();
  }

  const seconds = (performance.now() - t0) / 1000;
  const summary = {
    out: o.out, episodes: planned.length, frames: totalFrames, tasks: tasks.length, fps, camera: videoKey,
    images: o.video ? "video" : "png", bytes, seconds: Math.round(seconds * 100) / 100, per_episode: summaries,
  };
  for (const s of summaries) {
    const lost = (s.mocap.untracked ?? 0) + (s.mocap.absent ?? 0) + (s.mocap.non_finite ?? 0) + (s.mocap.bad_quaternion ?? 0) + (s.mocap.undecodable ?? 0);
    if (s.rows_without_reward > 0) process.stderr.write(`spatial-reward export lerobot: ${s.file}: ${s.rows_without_reward} of ${s.length} rows have no reward before them on ${o.rewardTopic} (next.reward 0)\n`);
    if (lost > 0) process.stderr.write(`spatial-reward export lerobot: ${s.file}: ${lost} mocap samples without a usable pose of ${JSON.stringify(o.body)} were skipped (${JSON.stringify(s.mocap)})\n`);
  }
  if (o.json) console.log(JSON.stringify(summary));
  else {
    console.log(`${o.out}: LeRobot v2.1 dataset, ${planned.length} episodes, ${totalFrames} frames at ${fps} fps, ${tasks.length} tasks, camera ${videoKey} as ${o.video ? "video" : "PNG images"}`);
    console.log(`${(bytes / 1e6).toFixed(1)} MB, ${seconds.toFixed(1)} s`);
  }
  return 0;
}
