import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { InvalidInputError, SpatialRewardError } from "../../src/errors.js";

/**
 * MP4 video through the system's ffmpeg (Debian's `ffmpeg` package), encoded as LeRobot v2.1
 * encodes its datasets (video_utils.encode_video_frames: libsvtav1, yuv420p, g=2, crf=30);
 * libx264 with the same GOP and pixel format where ffmpeg has no SVT-AV1. Frames go to
 * ffmpeg's stdin as raw rgb24, so no PNG is written in between.
 */

/** ffmpeg's first version line, or null when there is no usable ffmpeg on PATH. */
export function ffmpegVersion(): string | null {
  const r = spawnSync("ffmpeg", ["-hide_banner", "-version"], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0 || typeof r.stdout !== "string") return null;
  return r.stdout.split("\n")[0] ?? null;
}

/** SVT-AV1 refuses frames smaller than this on either side. */
const SVT_AV1_MIN_SIDE = 64;

/** The encoder to use: libsvtav1 (LeRobot's default) if ffmpeg has it and the frame is large enough for it, else libx264, else null. */
export function videoCodec(width: number, height: number): "libsvtav1" | "libx264" | null {
  const r = spawnSync("ffmpeg", ["-hide_banner", "-encoders"], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) return null;
  if (/\blibsvtav1\b/.test(r.stdout) && width >= SVT_AV1_MIN_SIDE && height >= SVT_AV1_MIN_SIDE) return "libsvtav1";
  if (/\blibx264\b/.test(r.stdout)) return "libx264";
  return null;
}

export interface ProbedVideo {
  codec: string;
  pixFmt: string;
  width: number;
  height: number;
  frames: number;
  fps: number;
}

/** What ffprobe says about a video's first stream (frames counted by decoding). */
export function probeVideo(path: string): ProbedVideo {
  const r = spawnSync("ffprobe", [
    "-v", "error", "-select_streams", "v:0", "-count_frames",
    "-show_entries", "stream=codec_name,pix_fmt,width,height,avg_frame_rate,nb_read_frames", "-of", "json", path,
  ], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new SpatialRewardError("internal", `ffprobe ${path}: ${String(r.stderr).trim().split("\n").pop() ?? `exit ${r.status}`}`);
  const s = (JSON.parse(r.stdout) as { streams: Record<string, string | number>[] }).streams[0];
  if (!s) throw new SpatialRewardError("internal", `ffprobe ${path}: no video stream`);
  const [num, den] = String(s.avg_frame_rate).split("/").map(Number);
  return { codec: String(s.codec_name), pixFmt: String(s.pix_fmt), width: Number(s.width), height: Number(s.height), frames: Number(s.nb_read_frames), fps: den ? num / den : num };
}

/** One episode's video, frame by frame. */
export class VideoEncoder {
  private readonly child: ChildProcessByStdio<Writable, null, Readable>;
  private readonly exited: Promise<number | null>;
  private stderr = "";
  private frames = 0;

  constructor(readonly path: string, readonly width: number, readonly height: number, fps: number, codec: "libsvtav1" | "libx264") {
    if (width % 2 !== 0 || height % 2 !== 0) {
      throw new InvalidInputError("bad_image_size", `video needs an even width and height (yuv420p), the camera is ${width}x${height}: export with --images`);
    }
    const threads = codec === "libsvtav1" ? ["-svtav1-params", "lp=1"] : ["-threads", "1"];
    this.child = spawn("ffmpeg", [
      "-hide_banner", "-loglevel", "error", "-nostdin",
      "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", `${width}x${height}`, "-r", String(fps), "-i", "pipe:0",
      "-vcodec", codec, "-pix_fmt", "yuv420p", "-g", "2", "-crf", "30", ...threads,
      "-n", path,
    ], { stdio: ["pipe", "ignore", "pipe"], env: { ...process.env, SVT_LOG: "1" } });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (d: string) => {
      if (this.stderr.length < 8192) this.stderr += d;
    });
    this.exited = new Promise((resolve) => {
      this.child.on("error", (e) => {
        this.stderr += e.message;
        resolve(null);
      });
      this.child.on("close", (code) => resolve(code));
    });
    // A failed ffmpeg closes its stdin: the write error is reported by finish() with ffmpeg's own message.
    this.child.stdin.on("error", () => undefined);
  }

  /** Queues one packed rgb8 frame (copied: the caller may reuse `rgb` once this resolves); resolves when the pipe takes more (backpressure). */
  write(rgb: Uint8Array): Promise<void> {
    if (rgb.length !== this.width * this.height * 3) throw new InvalidInputError("bad_image_size", `video frame of ${rgb.length} bytes, ${this.width}x${this.height} rgb8 needs ${this.width * this.height * 3}`);
    this.frames++;
    // A copy: the stream keeps a reference to what it has not yet written to the pipe, and a
    // frame under the 16 KiB high-water mark makes write() return true while still queued.
    const frame = Buffer.from(rgb);
    return new Promise((resolve) => {
      if (this.child.stdin.write(frame)) resolve();
      else this.child.stdin.once("drain", resolve).once("close", resolve);
    });
  }

  /** Ends the stream and waits for ffmpeg; rejects with ffmpeg's message when it failed. */
  async finish(): Promise<number> {
    this.child.stdin.end();
    const code = await this.exited;
    if (code !== 0) throw new SpatialRewardError("internal", `ffmpeg could not write ${this.path} (exit ${code}): ${this.stderr.trim().split("\n").slice(-2).join(" ") || "no message"}`);
    return this.frames;
  }

  /** Stops ffmpeg (after an error elsewhere). */
  kill(): void {
    this.child.kill("SIGKILL");
  }
}
