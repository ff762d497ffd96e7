import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VideoEncoder, videoCodec } from "../../nodes/cli/ffmpeg_video.js";

const ffmpeg = spawnSync("ffmpeg", ["-version"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "ffmpeg-video-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Where ffmpeg must be there (CI installs Debian's), its absence fails instead of skipping the video tests.
describe.runIf(process.env.SPATIAL_REWARD_REQUIRE_FFMPEG === "1")("ffmpeg (SPATIAL_REWARD_REQUIRE_FFMPEG=1)", () => {
  it("is installed", () => {
    expect(ffmpeg).toBe(true);
  });
});

describe.skipIf(!ffmpeg)("VideoEncoder", () => {
  it("each frame is what was written when write() resolved, though the caller reuses one buffer (as export lerobot does)", async () => {
    // Small frames (under the pipe's 16 KiB high-water mark) written faster than ffmpeg reads:
    // once the pipe is full, a write that returns true still points at the caller's bytes.
    const w = 16, h = 16, n = 120;
    const codec = videoCodec(w, h)!;
    const enc = new VideoEncoder(join(dir, "reuse.mp4"), w, h, 30, codec);
    const rgb = new Uint8Array(w * h * 3);
    const grey = (k: number) => (k % 2 === 0 ? 30 : 220);
    for (let k = 0; k < n; k++) {
      rgb.fill(grey(k));
      await enc.write(rgb);
    }
    expect(await enc.finish()).toBe(n);
    const raw = spawnSync("ffmpeg", ["-v", "error", "-i", enc.path, "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"], { maxBuffer: 1 << 26 });
    expect(raw.status).toBe(0);
    const bytes = new Uint8Array(raw.stdout);
    expect(bytes.length).toBe(n * w * h);
    const wrong: number[] = [];
    for (let k = 0; k < n; k++) {
      let sum = 0;
      for (let i = 0; i < w * h; i++) sum += bytes[k * w * h + i];
      // Lossy (crf 30, yuv420p), but 30 and 220 are far apart.
      if (Math.abs(sum / (w * h) - grey(k)) > 40) wrong.push(k);
    }
    expect(wrong).toEqual([]);
  });
});
