import { readFileSync } from "node:fs";
import { join } from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { parse } from "yaml";
import { InprocTransport } from "../src/transport/inproc_transport.js";
import { QOS_DEFAULT, QOS_LATCHED } from "../src/transport/qos.js";
import type { RgbdFrame } from "../src/perception/rgbd_frame.js";
import type { Scene } from "../src/scene/scene_object.js";
import type * as M from "../src/msgs/generated.js";
import { RgbdSensor, teleopScenario, uniqueName, worldAt, type NoiseModel } from "../sim/index.js";
import { launchGraph } from "../nodes/graph_launcher.js";
import { SimCameraNode } from "../nodes/sim_camera_node.js";
import type { DiagnosticsPublisher } from "../nodes/diagnostics_publisher.js";
import { T, header } from "../nodes/messages.js";
import { LatencyStats } from "../src/diagnostics/latency_stats.js";
import { benchArgs } from "./bench_args.js";

/**
 * `npm run bench:soak`: the tabletop graph (perception → spatial → reward over the in-process
 * transport, wired from launch/params/tabletop.yaml as `spatial-reward launch` wires it) over
 * an accelerated 6 hours: 650,000 frames stamped at 30 Hz, replayed as fast as the graph takes
 * them. Rendering costs ~20 ms a frame, so one scripted episode (`--cycle` frames, RealSense
 * noise) is rendered once and replayed re-stamped. The episode's task is latched on
 * reward/spec once; a question goes through the spatial_query service every `--ask-every`
 * frames. Once per simulated second every node's diagnostics snapshot is taken at the
 * simulated time, as its 1 s timer would: the cost of those ticks and the process's memory,
 * first simulated 10 minutes against last, is what the soak measures.
 * JSON on stdout, progress on stderr.
 */
const { values } = benchArgs("bench:soak", "npm run bench:soak -- [--frames N] [--cycle N] [--seed S] [--noise none|realsense] [--width W] [--height H] [--ask-every N] [--latency-window-ms MS] [--params FILE] [--json]", {
  options: {
    frames: { type: "string", default: "650000" },
    cycle: { type: "string", default: "150" },
    seed: { type: "string", default: "7" },
    noise: { type: "string", default: "realsense" },
    width: { type: "string", default: "640" },
    height: { type: "string", default: "480" },
    "ask-every": { type: "string", default: "15" },
    // > 0: each node's latency statistics report the last N ms of wall time (what a /diagnostics
    // tick should show), instead of the publisher's default.
    "latency-window-ms": { type: "string", default: "0" },
    params: { type: "string", default: join("launch", "params", "tabletop.yaml") },
    json: { type: "boolean", default: false },
  },
});

function fail(msg: string): never {
  console.error(`bench:soak: ${msg}`);
  process.exit(2);
}
function intOption(name: string, min: number): number {
  const v = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(v) || v < min) fail(`--${name} must be an integer ≥ ${min}, got ${String(values[name as keyof typeof values])}`);
  return v;
}
const frames = intOption("frames", 300);
const cycle = intOption("cycle", 30);
const seed = intOption("seed", 0);
const width = intOption("width", 64);
const height = intOption("height", 48);
const askEvery = intOption("ask-every", 1);
const latencyWindowMs = intOption("latency-window-ms", 0);
const noise = values.noise as NoiseModel;
if (noise !== "none" && noise !== "realsense") fail(`--noise must be none or realsense, got ${values.noise}`);

const FPS = 30;
const TICK_FRAMES = FPS; // one diagnostics tick per simulated second
/** Ticks compared at each end: the first and last simulated 10 minutes, or a third of a short run. */
const windowTicks = Math.max(1, Math.min(600, Math.floor(frames / TICK_FRAMES / 3)));
const totalTicks = Math.floor(frames / TICK_FRAMES);
const WARMUP_FRAMES = Math.min(1800, Math.floor(frames / 10)); // one simulated minute

// Retained memory is what a leak shows as: measure after a full collection, not mid-garbage.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

function memory(): { rss_mb: number; heap_used_mb: number } {
  gc();
  const m = process.memoryUsage();
  return { rss_mb: round(m.rss / 2 ** 20, 1), heap_used_mb: round(m.heapUsed / 2 ** 20, 1) };
}
function round(x: number, digits = 3): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
function median(xs: Float64Array): number {
  const s = Float64Array.from(xs).sort();
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A frame's buffers copied out of the sensor (which reuses them on the next capture). */
function copyFrame(f: RgbdFrame): RgbdFrame {
  const img = (i: RgbdFrame["rgb"]) => ({ ...i, data: Uint8Array.from(i.data) });
  return {
    ...f,
    rgb: img(f.rgb),
    depth: img(f.depth),
    instances: f.instances ? { image: img(f.instances.image), labels: new Map(f.instances.labels) } : undefined,
    detections: f.detections ? f.detections.map((d) => ({ ...d })) : undefined,
  };
}

// ---- the pre-rendered cycle -------------------------------------------------------------
const t0Render = performance.now();
const scenario = teleopScenario(seed, cycle, { width, height });
const sensor = new RgbdSensor({ noise, seed: scenario.seed });
const recorded: { frame: RgbdFrame; truth: Scene }[] = [];
for (let f = 0; f < cycle; f++) {
  const cap = sensor.capture(worldAt(scenario.world, scenario.episode.poses[f]), scenario.camera, 0n);
  recorded.push({ frame: copyFrame(cap.frame), truth: cap.truth });
}
const renderSeconds = (performance.now() - t0Render) / 1000;
console.error(`bench:soak: rendered a ${cycle}-frame cycle at ${width}x${height} in ${renderSeconds.toFixed(1)} s; task "${scenario.episode.instruction}"`);

// ---- the graph, as the launcher wires it --------------------------------------------------
const doc = parse(readFileSync(values.params, "utf8")) as Record<string, { ros__parameters: Record<string, unknown> }>;
// The camera is this bench (pre-rendered frames, simulated stamps), not the sim node's timer;
// no node timer either: the bench takes each node's diagnostics snapshot at simulated time.
delete doc.sim_camera;
doc["/**"] = { ros__parameters: { ...(doc["/**"]?.ros__parameters ?? {}), diagnostics_period_ms: 0 } };
const transport = new InprocTransport();
// Progress goes to stderr; the nodes' log lines (a task satisfied every replayed episode) would drown it.
transport.logSinks = [];
const graph = launchGraph(transport, doc);
if (!graph.perception || !graph.spatial || !graph.reward) fail(`${values.params} must start perception, spatial and reward`);

const nodes: { name: string; diagnostics: DiagnosticsPublisher }[] = [
  { name: "perception", diagnostics: graph.perception.diagnostics },
  { name: "spatial", diagnostics: graph.spatial.diagnostics },
  { name: "reward", diagnostics: graph.reward.diagnostics },
];

if (latencyWindowMs > 0) for (const n of nodes) n.diagnostics.latency = new LatencyStats({ windowMs: latencyWindowMs });

const camera = new SimCameraNode(transport.createNode("sim_camera"));
const BASE_NS = 1_700_000_000_000_000_000n;
const stampOf = (f: number) => BASE_NS + (BigInt(f) * 1_000_000_000n) / BigInt(FPS);
transport
  .createNode("soak_task")
  .createPublisher<M.spatial_reward_msgs__msg__RewardSpec>(T.RewardSpec, "reward/spec", QOS_LATCHED)
  .publish({ header: header(stampOf(0), ""), text: scenario.episode.instruction });

const client = transport.createNode("soak_client");
let rewardsOut = 0;
let lastReward: M.spatial_reward_msgs__msg__Reward | null = null;
client.createSubscription<M.spatial_reward_msgs__msg__Reward>(T.Reward, "reward", QOS_DEFAULT, (r) => {
  rewardsOut++;
  lastReward = r;
});
const query = client.createClient<M.spatial_reward_msgs__srv__SpatialQuery_Request, M.spatial_reward_msgs__srv__SpatialQuery_Response>(
  T.SpatialQuery, "spatial_query",
);
const { world, episode } = scenario;
const an = uniqueName(world, world.objects[episode.aIndex]);
const bn = uniqueName(world, world.objects.find((o) => o.id === episode.task.b)!);
const questions = [
  `How far is the ${an} from the ${bn}?`,
  `Is the ${an} to the left of the ${bn}?`,
  `Which is taller, the ${an} or the ${bn}?`,
  `How tall is the ${bn}?`,
];

// ---- the soak ---------------------------------------------------------------------------
const startTicks = new Float64Array(windowTicks * nodes.length);
const endTicks = new Float64Array(windowTicks * nodes.length);
const startTicksByNode = nodes.map(() => new Float64Array(windowTicks));
const endTicksByNode = nodes.map(() => new Float64Array(windowTicks));
let maxTickMs = 0;
let tick = 0;
let questionsAsked = 0, answersOk = 0, questionErrors = 0, publishErrors = 0;
let startMemory: ReturnType<typeof memory> | null = null;
let startWall = 0;

const wallStart = performance.now();
let lastProgress = wallStart;
for (let f = 0; f < frames; f++) {
  const stamp = stampOf(f);
  const rec = recorded[f % cycle];
  try {
    camera.publish({ ...rec.frame, stamp }, { ...rec.truth, stamp });
  } catch {
    // A subscriber that threw is counted by the transport (callback_errors); keep going.
    publishErrors++;
  }
  if (f % askEvery === askEvery - 1) {
    questionsAsked++;
    try {
      const res = await query.call({ question: questions[questionsAsked % questions.length], source: "", stream: "" }, 2000);
      if (res.answer.status === 0) answersOk++;
    } catch {
      questionErrors++;
    }
  }
  if (f % TICK_FRAMES === TICK_FRAMES - 1 && tick < totalTicks) {
    for (let n = 0; n < nodes.length; n++) {
      const t = performance.now();
      nodes[n].diagnostics.snapshot(stamp);
      const ms = performance.now() - t;
      if (ms > maxTickMs) maxTickMs = ms;
      if (tick < windowTicks) {
        startTicks[tick * nodes.length + n] = ms;
        startTicksByNode[n][tick] = ms;
      }
      const e = tick - (totalTicks - windowTicks);
      if (e >= 0) {
        endTicks[e * nodes.length + n] = ms;
        endTicksByNode[n][e] = ms;
      }
    }
    tick++;
  }
  if (f === WARMUP_FRAMES - 1) {
    startMemory = memory();
    startWall = performance.now();
  }
  const now = performance.now();
  if (now - lastProgress > 5000) {
    lastProgress = now;
    const fps = (f + 1) / ((now - wallStart) / 1000);
    const eta = (frames - f - 1) / fps;
    const lastTick = nodes.map((_, n) => (tick > 0 && tick <= windowTicks ? startTicksByNode[n][tick - 1] : NaN));
    const m = process.memoryUsage();
    console.error(
      `bench:soak: frame ${f + 1}/${frames} (sim ${((f + 1) / FPS / 3600).toFixed(2)} h) ${fps.toFixed(0)} frames/s, eta ${(eta / 60).toFixed(1)} min, ` +
        `rss ${(m.rss / 2 ** 20).toFixed(0)} MB heap ${(m.heapUsed / 2 ** 20).toFixed(0)} MB, max tick ${maxTickMs.toFixed(2)} ms` +
        (lastTick.every(Number.isNaN) ? "" : `, last ticks ${lastTick.map((x) => x.toFixed(3)).join("/")} ms`),
    );
  }
}
const wallSeconds = (performance.now() - wallStart) / 1000;
const endMemory = memory();
const begin = startMemory ?? endMemory;

function counterSum(snapshot: Record<string, number>, prefix: string): number {
  return Object.entries(snapshot).filter(([k]) => k.startsWith(prefix)).reduce((s, [, v]) => s + v, 0);
}
const counters = {
  perception: graph.perception.perception.counters.snapshot(),
  spatial: graph.spatial.counters.snapshot(),
  reward: graph.reward.counters.snapshot(),
  transport: transport.counters.snapshot(),
};
const errors =
  counterSum(counters.perception, "errors.") + counterSum(counters.spatial, "errors.") + counterSum(counters.reward, "errors.") +
  counterSum(counters.transport, "errors.") + counterSum(counters.transport, "callback_errors");
const latencyEnd = Object.fromEntries(nodes.map((n) => [n.name, n.diagnostics.latency.summary()]));
const tickStart = median(startTicks), tickEnd = median(endTicks);
const finalReward = lastReward as M.spatial_reward_msgs__msg__Reward | null;
const out = {
  bench: "soak",
  node: process.version,
  frames,
  simulated_hours: round(frames / FPS / 3600, 3),
  cycle_frames: cycle,
  resolution: `${width}x${height}`,
  noise,
  latency_window_ms: latencyWindowMs > 0 ? latencyWindowMs : "publisher default",
  task: scenario.episode.instruction,
  render_seconds: round(renderSeconds, 1),
  wall_seconds: round(wallSeconds, 1),
  frames_per_s: round(frames / wallSeconds, 1),
  diagnostics_ticks: tick,
  tick_window_ticks: windowTicks,
  tick_window_sim_minutes: round(windowTicks / 60, 2),
  tick_ms: {
    start_p50: round(tickStart, 4),
    end_p50: round(tickEnd, 4),
    ratio_end_start: round(tickEnd / tickStart, 3),
    max: round(maxTickMs, 3),
    by_node: Object.fromEntries(nodes.map((n, i) => {
      const a = median(startTicksByNode[i]), b = median(endTicksByNode[i]);
      return [n.name, { start_p50: round(a, 4), end_p50: round(b, 4), ratio_end_start: round(b / a, 3) }];
    })),
  },
  memory: {
    measured_after: "a full GC; start after the first simulated minute of frames (warm-up), end after the last frame",
    warmup_frames: WARMUP_FRAMES,
    start: begin,
    end: endMemory,
    rss_ratio_end_start: round(endMemory.rss_mb / begin.rss_mb, 3),
    heap_ratio_end_start: round(endMemory.heap_used_mb / begin.heap_used_mb, 3),
    max_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
  },
  steady_frames_per_s: startWall > 0 ? round((frames - WARMUP_FRAMES) / ((performance.now() - startWall) / 1000), 1) : null,
  counts: {
    frames_published: frames,
    perception_frames_in: counters.perception.frames_in ?? 0,
    perception_frames_out: counters.perception.frames_out ?? 0,
    rewards_out: rewardsOut,
    questions: questionsAsked,
    answers_ok: answersOk,
    question_errors: questionErrors,
    publish_errors: publishErrors,
    errors,
  },
  latency_ms_at_end: latencyEnd,
  reward_final: finalReward ? { reward: round(finalReward.reward, 4), success: finalReward.success } : null,
  counters,
  goals: {
    tick_ratio_max: 1.2,
    tick_ratio_met: tickEnd / tickStart <= 1.2,
    rss_ratio_max: 1.2,
    rss_ratio_met: endMemory.rss_mb / begin.rss_mb <= 1.2,
    heap_ratio_max: 1.2,
    heap_ratio_met: endMemory.heap_used_mb / begin.heap_used_mb <= 1.2,
  },
};
await transport.shutdown();
console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
