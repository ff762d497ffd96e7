import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromIPC, type Table } from "apache-arrow";
import * as parquetWasm from "parquet-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeRgbPng } from "../../nodes/cli/png_image.js";
import { CAMERA_PERIOD_NS, cli, writeEpisode, type FixtureEpisode } from "./export_fixtures.js";

/**
 * `spatial-reward export lerobot` on episodes written by the recorder's EpisodeWriter (simulator
 * camera frames, the mocap emitter's hand at 120 Hz in NatNet y-up millimetres, rewards on
 * the true scene), read back with parquet-wasm (Rust's arrow/parquet, a reader that shares no
 * code with the writer, hyparquet-writer) and checked against the fixture's own truth: rows,
 * columns and types, index continuity across episodes, the state against the emitter's truth,
 * actions, rewards, PNG frames, info.json totals, and every stat recomputed from the data read back.
 */
const work = mkdtempSync(join(tmpdir(), "sr-lerobot-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FPS = 30;
const W = 64, H = 48;
let episodes: FixtureEpisode[] = [];
let out = "";
let summary: { frames: number; per_episode: { repeated_frames: number; unused_frames: number; length: number; mocap_gap_ms_max: number }[] };
let tables: Table[] = [];
let kv: Map<string, string>[] = [];

const jsonl = <T>(file: string): T[] => readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as T);

function readParquet(file: string): { table: Table; metadata: Map<string, string> } {
  const bytes = new Uint8Array(readFileSync(file));
  const table = tableFromIPC(parquetWasm.readParquet(bytes).intoIPCStream());
  return { table, metadata: table.schema.metadata };
}

/** The camera frame a row shows, by the rule stated in the help: nearest log time to t0 + k/fps (searched linearly here). */
function rowCamera(ep: FixtureEpisode, k: number) {
  const t = ep.camera[0].logTime + BigInt(Math.round((k * 1e9) / FPS));
  let best = 0;
  for (let i = 1; i < ep.camera.length; i++) {
    const d = (x: bigint) => (x < 0n ? -x : x);
    if (d(ep.camera[i].logTime - t) < d(ep.camera[best].logTime - t)) best = i;
  }
  return ep.camera[best];
}

/** The mocap frame whose exposure (the emitter's truth, on the host clock) is nearest to a camera exposure stamp. */
function nearestMocap(ep: FixtureEpisode, stamp: bigint) {
  let best = ep.mocap[0];
  const d = (x: bigint) => Number(x < 0n ? -x : x);
  for (const m of ep.mocap) if (d(m.truth.exposureHostNs - stamp) < d(best.truth.exposureHostNs - stamp)) best = m;
  return best;
}

/** Packed rgb8 of a sim frame (its rows may be padded). */
function packed(ep: FixtureEpisode, cam: FixtureEpisode["camera"][number]): Uint8Array {
  const img = cam.rgbd.rgb;
  const outBytes = new Uint8Array(img.width * img.height * 3);
  for (let v = 0; v < img.height; v++) outBytes.set(img.data.subarray(v * img.step, v * img.step + img.width * 3), v * img.width * 3);
  void ep;
  return outBytes;
}

/** min/max/mean/std of numbers, computed plainly. */
function plainStats(xs: number[]) {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { min: Math.min(...xs), max: Math.max(...xs), mean, std };
}

function close(actual: number, expected: number, what: string, tol = 1e-6): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected)));
}

describe("export lerobot", () => {
  beforeAll(async () => {
    episodes = [
      await writeEpisode(join(work, "ep_a.mcap"), { seed: 11, frames: 30, width: W, height: H, dropFrames: [7] }),
      // A camera whose frames reach the recorder 45 ms after exposure (mocap's take a few ms): the
      // state must still be the hand at the image's exposure, not 40 ms later.
      await writeEpisode(join(work, "ep_b.mcap"), { seed: 12, frames: 24, width: W, height: H, cameraDelayNs: 45_000_000n }),
    ];
    out = join(work, "dataset");
    const r = await cli(["export", "lerobot", episodes[0].path, episodes[1].path, "--out", out, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    summary = JSON.parse(r.stdout.trim().split("\n").pop()!);
    for (let e = 0; e < 2; e++) {
      const p = readParquet(join(out, `data/chunk-000/episode_00000${e}.parquet`));
      tables.push(p.table);
      kv.push(p.metadata);
    }
  }, 120_000);

  it("writes the v2.1 layout with info.json totals, tasks and episodes", () => {
    const files = readdirSync(out, { recursive: true }).map(String).sort();
    expect(files).toEqual([
      "data", "data/chunk-000", "data/chunk-000/episode_000000.parquet", "data/chunk-000/episode_000001.parquet",
      "meta", "meta/episodes.jsonl", "meta/episodes_stats.jsonl", "meta/info.json", "meta/tasks.jsonl",
    ]);
    const info = JSON.parse(readFileSync(join(out, "meta/info.json"), "utf8"));
    const lengths = tables.map((t) => t.numRows);
    // Episode a: frames 0..29 with 7 missing still spans 30 slots; b: 24.
    expect(lengths).toEqual([30, 24]);
    const tasks = [...new Set(episodes.map((e) => e.task))];
    expect(info).toMatchObject({
      codebase_version: "v2.1", robot_type: "mocap_hand", total_episodes: 2, total_frames: 54, total_tasks: tasks.length,
      total_videos: 0, total_chunks: 1, chunks_size: 1000, fps: FPS, splits: { train: "0:2" },
      data_path: "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet", video_path: null,
    });
    expect(Object.keys(info.features)).toEqual([
      "observation.state", "action", "observation.images.camera", "timestamp", "frame_index", "episode_index", "index", "task_index",
      "next.reward", "next.done", "next.success",
    ]);
    expect(info.features["observation.state"]).toEqual({ dtype: "float32", shape: [7], names: ["x", "y", "z", "qx", "qy", "qz", "qw"] });
    expect(info.features["observation.images.camera"]).toEqual({ dtype: "image", shape: [H, W, 3], names: ["height", "width", "channels"] });
    expect(info.features["next.done"]).toEqual({ dtype: "bool", shape: [1], names: null });
    expect(jsonl(join(out, "meta/tasks.jsonl"))).toEqual(tasks.map((task, i) => ({ task_index: i, task })));
    expect(jsonl(join(out, "meta/episodes.jsonl"))).toEqual(episodes.map((e, i) => ({ episode_index: i, tasks: [e.task], length: lengths[i] })));
    expect(summary.frames).toBe(54);
    expect(summary.per_episode[0]).toMatchObject({ length: 30, repeated_frames: 1, unused_frames: 0 });
    expect(summary.per_episode[1]).toMatchObject({ length: 24, repeated_frames: 0, unused_frames: 0 });
  });

  it("parquet columns have LeRobot's types, the datasets features metadata, and continuous indices", () => {
    for (const [e, t] of tables.entries()) {
      expect(t.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual([
        "observation.state: List<Float32>", "action: List<Float32>", "observation.images.camera: Struct<{bytes:Binary, path:Utf8}>",
        "timestamp: Float32", "frame_index: Int64", "episode_index: Int64", "index: Int64", "task_index: Int64",
        "next.reward: Float32", "next.done: Bool", "next.success: Bool",
      ]);
      const hf = JSON.parse(kv[e].get("huggingface")!).info.features;
      expect(hf["observation.images.camera"]).toEqual({ _type: "Image" });
      expect(hf["observation.state"]).toEqual({ feature: { dtype: "float32", _type: "Value" }, length: 7, _type: "Sequence" });
      expect(hf.index).toEqual({ dtype: "int64", _type: "Value" });
      const n = t.numRows;
      const first = e === 0 ? 0 : tables[0].numRows;
      expect(Array.from(t.getChild("index")!.toArray() as BigInt64Array, Number)).toEqual(Array.from({ length: n }, (_, k) => first + k));
      expect(Array.from(t.getChild("frame_index")!.toArray() as BigInt64Array, Number)).toEqual(Array.from({ length: n }, (_, k) => k));
      expect(Array.from(t.getChild("episode_index")!.toArray() as BigInt64Array, Number)).toEqual(new Array(n).fill(e));
      const task = [...new Set(episodes.map((x) => x.task))].indexOf(episodes[e].task);
      expect(Array.from(t.getChild("task_index")!.toArray() as BigInt64Array, Number)).toEqual(new Array(n).fill(task));
      expect(Array.from(t.getChild("timestamp")!.toArray() as Float32Array)).toEqual(Array.from({ length: n }, (_, k) => Math.fround(k / FPS)));
      const done = Array.from({ length: n }, (_, k) => t.getChild("next.done")!.get(k));
      expect(done).toEqual(Array.from({ length: n }, (_, k) => k === n - 1));
    }
  });

  it("state is the hand's pose from the mocap sample nearest the image's exposure (REP-103 metres), action the next state, reward the frame's", () => {
    for (const [e, t] of tables.entries()) {
      const ep = episodes[e];
      const n = t.numRows;
      const state = (k: number) => Array.from(t.getChild("observation.state")!.get(k)!.toArray() as Float32Array);
      for (let k = 0; k < n; k++) {
        const cam = rowCamera(ep, k);
        const truth = nearestMocap(ep, cam.stamp).truth.bodies.find((b) => b.name === "hand")!.sent;
        const s = state(k);
        close(s[0], truth.position.x, `episode ${e} row ${k} x`);
        close(s[1], truth.position.y, `episode ${e} row ${k} y`);
        close(s[2], truth.position.z, `episode ${e} row ${k} z`);
        const q = truth.orientation;
        const dot = s[3] * q.x + s[4] * q.y + s[5] * q.z + s[6] * q.w;
        close(Math.abs(dot), 1, `episode ${e} row ${k} orientation`);
        const action = Array.from(t.getChild("action")!.get(k)!.toArray() as Float32Array);
        expect(action, `action of row ${k}`).toEqual(state(Math.min(k + 1, n - 1)));
        const r = ep.rewards.get(cam.stamp)!;
        expect(t.getChild("next.reward")!.get(k)).toBe(Math.fround(r.reward));
        expect(t.getChild("next.success")!.get(k)).toBe(r.success);
        if (k > 0) {
          // Continuous quaternion sign: consecutive rows never flip.
          const p = state(k - 1);
          expect(p[3] * s[3] + p[4] * s[4] + p[5] * s[5] + p[6] * s[6]).toBeGreaterThan(0);
        }
      }
      // The hand moves in this episode: states are not all one pose.
      expect(new Set(Array.from({ length: n }, (_, k) => state(k)[0])).size).toBeGreaterThan(n / 2);
      expect(summary.per_episode[e].mocap_gap_ms_max).toBeLessThanOrEqual(1000 / 120);
    }
  });

  it("an episode with only the ingest's ROS MocapFrame channel (recorder in its own process) exports the same states", async () => {
    const ros = await writeEpisode(join(work, "ep_ros.mcap"), { seed: 11, frames: 30, width: W, height: H, dropFrames: [7], mocapAs: "ros" });
    const dest = join(work, "dataset_ros");
    const r = await cli(["export", "lerobot", ros.path, "--out", dest, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(s.per_episode[0]).toMatchObject({ length: 30, mocap: { ok: ros.mocap.length } });
    expect(s.per_episode[0].mocap_gap_ms_max).toBeLessThanOrEqual(1000 / 120);
    const t = readParquet(join(dest, "data/chunk-000/episode_000000.parquet")).table;
    expect(t.numRows).toBe(tables[0].numRows);
    const row = (table: Table, column: string, k: number) => Array.from(table.getChild(column)!.get(k)!.toArray() as Float32Array);
    for (let k = 0; k < t.numRows; k++) {
      // Against the emitter's truth at the image's exposure...
      const truth = nearestMocap(ros, rowCamera(ros, k).stamp).truth.bodies.find((b) => b.name === "hand")!.sent;
      const st = row(t, "observation.state", k);
      close(st[0], truth.position.x, `row ${k} x`);
      close(st[1], truth.position.y, `row ${k} y`);
      close(st[2], truth.position.z, `row ${k} z`);
      // ...and the protobuf recording of the same episode, row for row.
      const fromProtobuf = row(tables[0], "observation.state", k);
      for (let c = 0; c < 7; c++) close(st[c], fromProtobuf[c], `row ${k} state[${c}]`);
      expect(row(t, "action", k)).toEqual(row(t, "observation.state", Math.min(k + 1, t.numRows - 1)));
      expect(t.getChild("next.reward")!.get(k)).toBe(tables[0].getChild("next.reward")!.get(k));
    }
  }, 60_000);

  it("images are the camera frames as PNG in the {bytes, path} struct; a skipped camera frame repeats its nearest", () => {
    for (const [e, t] of tables.entries()) {
      const ep = episodes[e];
      for (let k = 0; k < t.numRows; k++) {
        const cell = t.getChild("observation.images.camera")!.get(k)!.toJSON() as { bytes: Uint8Array; path: string };
        expect(cell.path).toBe(`frame_${String(k).padStart(6, "0")}.png`);
        const img = decodeRgbPng(cell.bytes);
        expect([img.width, img.height]).toEqual([W, H]);
        expect(Buffer.from(img.data).equals(Buffer.from(packed(ep, rowCamera(ep, k)))), `episode ${e} row ${k}`).toBe(true);
      }
    }
    // Episode a's frame 7 was never recorded: row 7 shows frame 8 (nearest to 7/30 s after frame 0's log time).
    expect(rowCamera(episodes[0], 7).frame).toBe(8);
    expect(episodes[0].camera[0].logTime + 8n * CAMERA_PERIOD_NS).toBe(rowCamera(episodes[0], 7).logTime);
  });

  it("episodes_stats.jsonl matches stats recomputed from the data read back", () => {
    const stats = jsonl<{ episode_index: number; stats: Record<string, { min: unknown[]; max: unknown[]; mean: unknown[]; std: unknown[]; count: number[] }> }>(join(out, "meta/episodes_stats.jsonl"));
    expect(stats.map((s) => s.episode_index)).toEqual([0, 1]);
    for (const [e, t] of tables.entries()) {
      const s = stats[e].stats;
      const n = t.numRows;
      expect(Object.keys(s).sort()).toEqual(["action", "episode_index", "frame_index", "index", "next.done", "next.reward", "next.success", "observation.images.camera", "observation.state", "task_index", "timestamp"]);
      for (const key of ["observation.state", "action"]) {
        for (let d = 0; d < 7; d++) {
          const xs = Array.from({ length: n }, (_, k) => (t.getChild(key)!.get(k)!.toArray() as Float32Array)[d]);
          const p = plainStats(xs);
          expect(s[key].min[d]).toBe(p.min);
          expect(s[key].max[d]).toBe(p.max);
          close(s[key].mean[d] as number, p.mean, `${key}[${d}] mean`);
          close(s[key].std[d] as number, p.std, `${key}[${d}] std`);
        }
        expect(s[key].count).toEqual([n]);
      }
      for (const key of ["timestamp", "frame_index", "episode_index", "index", "task_index", "next.reward"]) {
        const xs = Array.from({ length: n }, (_, k) => Number(t.getChild(key)!.get(k)));
        const p = plainStats(xs);
        // JSON has no −0 (a reward of −0 reads back as 0).
        expect([s[key].min, s[key].max, s[key].count], key).toEqual([[p.min + 0], [p.max + 0], [n]]);
        close(s[key].mean[0] as number, p.mean, `${key} mean`);
        close(s[key].std[0] as number, p.std, `${key} std`);
      }
      for (const key of ["next.done", "next.success"]) {
        const xs = Array.from({ length: n }, (_, k) => (t.getChild(key)!.get(k) ? 1 : 0));
        const p = plainStats(xs);
        expect([s[key].min, s[key].max], key).toEqual([[p.min === 1], [p.max === 1]]);
        close(s[key].mean[0] as number, p.mean, `${key} mean`);
        close(s[key].std[0] as number, p.std, `${key} std`);
      }
      // Under 100 frames LeRobot samples every frame, and under 300 px it does not downsample: every pixel of every row, per channel, / 255.
      const img = s["observation.images.camera"];
      expect(img.count).toEqual([n]);
      for (let c = 0; c < 3; c++) {
        const xs: number[] = [];
        for (let k = 0; k < n; k++) {
          const rgb = decodeRgbPng((t.getChild("observation.images.camera")!.get(k)!.toJSON() as { bytes: Uint8Array }).bytes).data;
          for (let i = c; i < rgb.length; i += 3) xs.push(rgb[i] / 255);
        }
        const p = { min: xs.reduce((a, b) => Math.min(a, b)), max: xs.reduce((a, b) => Math.max(a, b)) };
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
        const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
        expect(img.min[c]).toEqual([[p.min]]);
        expect(img.max[c]).toEqual([[p.max]]);
        close((img.mean[c] as number[][])[0][0], mean, `image channel ${c} mean`, 1e-9);
        close((img.std[c] as number[][])[0][0], std, `image channel ${c} std`, 1e-9);
      }
    }
  });

  it("takes a directory of episodes (its .mcap files in name order)", async () => {
    const dir = join(work, "episodes");
    mkdirSync(dir);
    writeFileSync(join(dir, "2_b.mcap"), readFileSync(episodes[1].path));
    writeFileSync(join(dir, "1_a.mcap"), readFileSync(episodes[0].path));
    writeFileSync(join(dir, "notes.txt"), "not an episode");
    const r = await cli(["export", "lerobot", dir, "--out", join(work, "from_dir"), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(s.per_episode.map((e: { file: string; length: number }) => [e.file, e.length])).toEqual([[join(dir, "1_a.mcap"), 30], [join(dir, "2_b.mcap"), 24]]);
    const empty = join(work, "empty_dir");
    mkdirSync(empty);
    const bad = await cli(["export", "lerobot", empty, "--out", join(work, "never3")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/holds no \.mcap episode/);
  }, 60_000);

  const ffmpeg = spawnSync("ffmpeg", ["-version"]).status === 0;
  it.skipIf(!ffmpeg)("--video writes one MP4 per episode (ffprobe: as many frames as rows) and leaves the camera out of the parquet", async () => {
    const dir = join(work, "video");
    const r = await cli(["export", "lerobot", episodes[1].path, "--out", dir, "--video", "--fps", "15", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(readFileSync(join(dir, "meta/info.json"), "utf8"));
    const mp4 = join(dir, "videos/chunk-000/observation.images.camera/episode_000000.mp4");
    expect(existsSync(mp4)).toBe(true);
    expect(info.video_path).toBe("videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4");
    expect(info.total_videos).toBe(1);
    expect(info.fps).toBe(15);
    // 24 frames at 30 Hz span 23/30 s: 12 rows at 15 fps.
    expect(info.total_frames).toBe(12);
    expect(info.features["observation.images.camera"]).toMatchObject({ dtype: "video", shape: [H, W, 3], info: { "video.fps": 15, "video.pix_fmt": "yuv420p", "video.is_depth_map": false, has_audio: false } });
    const probe = spawnSync("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames,codec_name,width,height", "-of", "json", mp4], { encoding: "utf8" });
    const stream = JSON.parse(probe.stdout).streams[0];
    expect(stream).toMatchObject({ width: W, height: H, nb_read_frames: "12", codec_name: info.features["observation.images.camera"].info["video.codec"] });
    const t = readParquet(join(dir, "data/chunk-000/episode_000000.parquet")).table;
    expect(t.numRows).toBe(12);
    expect(t.schema.fields.map((f) => f.name)).not.toContain("observation.images.camera");
    const stats = jsonl<{ stats: Record<string, { count: number[] }> }>(join(dir, "meta/episodes_stats.jsonl"))[0].stats;
    expect(stats["observation.images.camera"].count).toEqual([12]);
  }, 120_000);

  describe("hostile input: a clear line and an exit code, nothing left in --out", () => {
    const expectFailure = (r: { code: number; stderr: string }, code: number, pattern: RegExp) => {
      expect(r.code, r.stderr).toBe(code);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^spatial-reward export: /);
      expect(lines[0]).toMatch(pattern);
    };

    it("missing file, not MCAP, truncated MCAP, no camera, no mocap, the same episode twice", async () => {
      const dest = join(work, "never");
      expectFailure(await cli(["export", "lerobot", join(work, "nope.mcap"), "--out", dest]), 2, /does not exist/);
      const text = join(work, "notes.mcap");
      writeFileSync(text, "these are not the bytes you are looking for\n");
      expectFailure(await cli(["export", "lerobot", text, "--out", dest]), 1, /not an MCAP recording/);
      const cut = join(work, "cut.mcap");
      const whole = readFileSync(episodes[0].path);
      writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
      expectFailure(await cli(["export", "lerobot", cut, "--out", dest]), 1, /not a complete, indexed MCAP recording.*record recover/);
      const noCamera = await writeEpisode(join(work, "no_camera.mcap"), { seed: 13, frames: 20, width: W, height: H, camera: false, masks: false, scene: false });
      expectFailure(await cli(["export", "lerobot", noCamera.path, "--out", dest]), 1, /no camera topic camera\/color\/image_raw/);
      const noMocap = await writeEpisode(join(work, "no_mocap.mcap"), { seed: 13, frames: 20, width: W, height: H, mocap: false, masks: false, scene: false });
      expectFailure(await cli(["export", "lerobot", noMocap.path, "--out", dest]), 1, /no mocap channel/);
      // A good episode before a bad one: still nothing written.
      expectFailure(await cli(["export", "lerobot", episodes[1].path, noMocap.path, "--out", dest]), 1, /no mocap channel/);
      expectFailure(await cli(["export", "lerobot", episodes[1].path, episodes[1].path, "--out", dest]), 2, /given twice/);
      expectFailure(await cli(["export", "lerobot", episodes[1].path, "--out", dest, "--body", "left_foot"]), 1, /no usable pose of rigid body "left_foot"/);
      expect(existsSync(dest)).toBe(false);
    }, 60_000);

    it("--out not empty, bad --fps, --video with --images, bad names", async () => {
      const full = join(work, "full");
      mkdirSync(full);
      writeFileSync(join(full, "keep.txt"), "mine");
      expectFailure(await cli(["export", "lerobot", episodes[1].path, "--out", full]), 2, /not empty/);
      expect(readdirSync(full)).toEqual(["keep.txt"]);
      const dest = join(work, "never2");
      for (const fps of ["0", "-3", "2.5", "abc", "1001", "1e2"]) expectFailure(await cli(["export", "lerobot", episodes[1].path, "--out", dest, "--fps", fps]), 2, /--fps must be an integer from 1 to 1000/);
      // Above the camera's rate, frames would repeat.
      expectFailure(await cli(["export", "lerobot", episodes[1].path, "--out", dest, "--fps", "60"]), 1, /camera runs at 30\.0 Hz, below the dataset's 60 fps/);
      expectFailure(await cli(["export", "lerobot", episodes[1].path, "--out", dest, "--video", "--images"]), 2, /--video or --images, not both/);
      expectFailure(await cli(["export", "lerobot", episodes[1].path, "--out", dest, "--camera", "a/b"]), 2, /--camera must be/);
      expectFailure(await cli(["export", "lerobot", "--out", dest]), 2, /EPISODES/);
      expect(existsSync(dest)).toBe(false);
    }, 60_000);
  });
});
