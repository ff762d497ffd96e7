import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT } from "../../src/transport/qos.js";
import { LatencyStats } from "../../src/diagnostics/latency_stats.js";
import type * as M from "../../src/msgs/generated.js";
import { RgbdSensor, teleopScenario, worldAt, uniqueName } from "../../sim/index.js";
import { PerceptionNode } from "../perception_node.js";
import { SpatialNode } from "../spatial_node.js";
import { RewardNode } from "../reward_node.js";
import { SimCameraNode } from "../sim_camera_node.js";
import { BACKBONE_PROGRESS_TOPIC, T } from "../messages.js";
import { Progress } from "./progress.js";
import { DemoReport } from "../report/demo_report.js";
import type { DemoOptions } from "./program.js";
import { parseRewardSpec } from "../../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../../src/reward/reward_tracker.js";
import { BackboneNode } from "../backbone_node.js";
import { realTimePacer, startFoxglove } from "../foxglove/cli_bridge.js";

/** One scripted pick-and-place episode through the node graph (options checked by program.ts). */
export async function run(values: DemoOptions): Promise<number> {
  const transport = new InprocTransport();
  const started: { backbone: BackboneNode | null; foxglove: Awaited<ReturnType<typeof startFoxglove>> } = { backbone: null, foxglove: null };
  // Whatever happens below, the backbone's worker thread and the transport are closed: a live
  // worker would keep the process from exiting after an error.
  try {
    started.foxglove = await startFoxglove(transport, values);
    // Watched in Foxglove, the episode plays at the camera's 30 Hz instead of flat out.
    return await runEpisode(values, transport, (b) => (started.backbone = b), started.foxglove ? realTimePacer(30) : null);
  } finally {
    await started.foxglove?.close();
    await started.backbone?.close();
    await transport.shutdown();
  }
}

/** The episode; `track` learns of the backbone node as soon as it exists, so the caller can close it. */
async function runEpisode(values: DemoOptions, transport: InprocTransport, track: (b: BackboneNode) => void, pace: (() => Promise<void>) | null): Promise<number> {
  const { frames, seed, noise } = values;
  const scenario = teleopScenario(seed, frames);
  const { world, camera, episode } = scenario;
  const a = world.objects[episode.aIndex];
  const b = world.objects.find((o) => o.id === episode.task.b)!;
  const perception = new PerceptionNode(transport.createNode("perception"));
  const spatial = new SpatialNode(transport.createNode("spatial"));
  const reward = new RewardNode(transport.createNode("reward", { parameterOverrides: { reward_spec: episode.instruction } }));
  const sim = new SimCameraNode(transport.createNode("sim_camera"));
  const report = values.report !== undefined ? DemoReport.open(values.report, transport, scenario) : null;
  // The backbone beside the engine: a model folder, or seeded-random weights (the tiny default).
  const backbone = values.backbone
    ? new BackboneNode(
      transport.createNode("backbone", { parameterOverrides: values.model !== undefined ? { model_path: values.model } : {} }),
      values.model !== undefined ? {} : { model: { seed: 1 } },
    )
    : null;
  if (backbone) {
    track(backbone);
    await backbone.ready;
    // A model that does not load is the backbone's failure, not the demo's: said once, the engine goes on.
    if (backbone.state === "failed") process.stderr.write("backbone: the model failed to load (see the log above); the engine's answers go on\n");
    else if (!values.json) {
      console.log(backbone.config?.trained === false
        ? "backbone: untrained seeded-random model: latency only, no answers"
        : "backbone: trained model; its answers are marked source \"backbone\"");
    }
  }
  const client = transport.createNode("demo");
  const query = client.createClient<M.spatial_reward_msgs__srv__SpatialQuery_Request, M.spatial_reward_msgs__srv__SpatialQuery_Response>(T.SpatialQuery, "spatial_query");

  const latency = new LatencyStats();
  let published = 0n;
  let t0 = 0;
  let last: M.spatial_reward_msgs__msg__Reward | null = null;
  let firstSuccess = -1;
  client.createSubscription<M.spatial_reward_msgs__msg__Reward>(T.Reward, "reward", QOS_DEFAULT, (r) => {
    last = r;
    if (BigInt(r.header.stamp.sec) * 1_000_000_000n + BigInt(r.header.stamp.nanosec) === published) latency.add(performance.now() - t0);
  });
  // The model's progress head, as the backbone node publishes it (only a model with a head does).
  const modelProgress: number[] = [];
  if (backbone) client.createSubscription<M.spatial_reward_msgs__msg__Reward>(T.Reward, BACKBONE_PROGRESS_TOPIC, QOS_DEFAULT, (r) => modelProgress.push(r.progress));

  const an = uniqueName(world, a), bn = uniqueName(world, b);
  const questions = [
    `How far is the ${an} from the ${bn}?`,
    `Is the ${an} to the left of the ${bn}?`,
    `Which is taller, the ${an} or the ${bn}?`,
    `How tall is the ${bn}?`,
    `What is the gap between the ${an} and the ${bn}?`,
  ];
  const answers: { frame: number; question: string; answer: string; value: number; status: number }[] = [];
  const sideBySide: SideBySide[] = [];
  const sensor = new RgbdSensor({ noise, seed: scenario.seed });
  // The same spec on the simulator's ground truth: when success really happens.
  const truthTracker = new RewardTracker(parseRewardSpec(episode.instruction));
  let trueSuccess = -1;
  const progress = new Progress(250, true);
  const periodNs = 33_333_333n;
  const start = performance.now();
  if (!values.json) console.log(`task: "${episode.instruction}" (${frames} frames, seed ${scenario.seed}, noise ${noise})`);
  for (let f = 0; f < frames; f++) {
    const stamp = 1_700_000_000_000_000_000n + BigInt(f) * periodNs;
    const cap = sensor.capture(worldAt(world, episode.poses[f]), camera, stamp);
    published = stamp;
    if (truthTracker.update(cap.truth).success && trueSuccess < 0) trueSuccess = f;
    t0 = performance.now();
    sim.publish(cap.frame, cap.truth);
    report?.frame(f, cap);
    // The backbone's worker takes frames when the event loop turns; without a turn per frame it would see one frame per question.
    if (backbone) await new Promise((r) => setImmediate(r));
    if (pace) await pace();
    const r = last as M.spatial_reward_msgs__msg__Reward | null;
    if (r?.success && firstSuccess < 0) firstSuccess = f;
    if (f % 30 === 15) {
      const q = questions[(f / 30) % questions.length | 0];
      const res = await query.call({ question: q, source: "", stream: "" }, 2000);
      answers.push({ frame: f, question: q, answer: res.answer.text, value: res.answer.value, status: res.answer.status });
      if (backbone) {
        // The same question to the model, through the same service; an untrained model's reply
        // is the node's "untrained … not an answer", never its text.
        const b = (await query.call({ question: q, source: "backbone", stream: "" }, 30_000)).answer;
        sideBySide.push({ question: q, engine: res.answer.text, backbone: b.text, status: b.status });
        if (!values.json) progress.log(`  Q: ${q}\n    engine:   ${res.answer.text}\n    backbone: ${b.text}`);
      } else if (!values.json) progress.log(`  Q: ${q}  A: ${res.answer.text}`);
    }
    const elapsed = (performance.now() - start) / 1000;
    const lat = latency.summary();
    progress.update(`frame ${f + 1}/${frames}  ${((f + 1) / elapsed).toFixed(1)} Hz  latency p50 ${lat.p50} ms  reward ${r ? r.reward.toFixed(3) : "-"}  progress ${r ? r.progress.toFixed(2) : "-"}${r?.success ? "  success" : ""}`, false, (f + 1) / frames);
  }
  progress.done();
  const seconds = (performance.now() - start) / 1000;
  const backboneSummary = backbone ? await summariseBackbone(backbone, client, questions[0], sideBySide, modelProgress) : null;
  const final = last as M.spatial_reward_msgs__msg__Reward | null;
  const summary = {
    task: episode.instruction,
    spec: final?.spec ?? "",
    seed: scenario.seed,
    noise,
    frames,
    hz: Math.round((frames / seconds) * 10) / 10,
    latency_ms: latency.summary(),
    answers: answers.length,
    answers_ok: answers.filter((x) => x.status === 0).length,
    reward_final: final ? Math.round(final.reward * 1e4) / 1e4 : null,
    progress_final: final ? Math.round(final.progress * 1e4) / 1e4 : null,
    success: final?.success ?? false,
    success_frame: firstSuccess,
    true_success_frame: trueSuccess,
    place_frame: episode.placeFrame,
    counters: {
      perception: perception.perception.counters.snapshot(),
      spatial: spatial.counters.snapshot(),
      reward: reward.counters.snapshot(),
      transport: transport.counters.snapshot(),
    },
    sample_answers: answers.slice(0, 5),
    ...(backboneSummary ? { backbone: backboneSummary } : {}),
  };
  await backbone?.close();
  if (report) process.stderr.write(`report: ${await report.write(summary)}\n`);
  if (values.json) console.log(JSON.stringify(summary));
  else {
    console.log(`\n${frames} frames in ${seconds.toFixed(1)} s (${summary.hz} Hz, rendering included); frame→reward latency p50 ${summary.latency_ms.p50} ms, p99 ${summary.latency_ms.p99} ms`);
    console.log(`reward ${summary.reward_final}, progress ${summary.progress_final}, success ${summary.success} (first at frame ${firstSuccess}, truly at frame ${trueSuccess}; object set down at frame ${episode.placeFrame})`);
    console.log(`answers: ${summary.answers_ok}/${summary.answers} ok; perception counters: ${JSON.stringify(summary.counters.perception)}`);
    if (backboneSummary) {
      console.log(backboneLine(backboneSummary));
      for (const x of backboneSummary.answers) console.log(`  Q: ${x.question}\n    engine:   ${x.engine}\n    backbone: ${x.backbone}`);
    }
  }
  return summary.success ? 0 : 1;
}

interface BackboneSummary {
  state: string;
  trained: boolean | null;
  frames_in: number;
  frames_done: number;
  frames_dropped: number;
  frame_ms: { p50: number; p99: number };
  encode_ms_p50: number;
  prefill_ms_p50: number;
  kept_fraction: number | null;
  answer: { status: number; text: string };
  /** The demo's questions, each answered by both sources; status is the backbone answer's (SpatialAnswer.status). */
  answers: SideBySide[];
  /** Median of the progress head's values over the episode (nearest rank), only for a model with a head. */
  progress_p50?: number;
  progress_n?: number;
  progress_last?: number;
}

interface SideBySide { question: string; engine: string; backbone: string; status: number }

/** The backbone's run: frames, per-frame worker time, and what it says to a question (never an untrained model's text). */
async function summariseBackbone(
  backbone: BackboneNode, client: ReturnType<InprocTransport["createNode"]>, question: string, answers: SideBySide[], progress: number[],
): Promise<BackboneSummary> {
  // Let the frame in flight finish, so the counts add up (frames_in = done + dropped).
  const until = Date.now() + 5000;
  const c = backbone.counters;
  while (c.get("frames_in") > c.get("frames_done") + c.get("frames_dropped") && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  const query = client.createClient<M.spatial_reward_msgs__srv__SpatialQuery_Request, M.spatial_reward_msgs__srv__SpatialQuery_Response>(T.SpatialQuery, "spatial_query");
  const a = (await query.call({ question, source: "backbone", stream: "" }, 30_000)).answer;
  const d = backbone.diagnostics;
  const all = d.frameMsAll.summary();
  return {
    state: backbone.state,
    trained: backbone.config?.trained ?? null,
    frames_in: c.get("frames_in"),
    frames_done: c.get("frames_done"),
    frames_dropped: c.get("frames_dropped"),
    frame_ms: { p50: all.p50, p99: all.p99 },
    encode_ms_p50: d.stages.encode.summary().p50,
    prefill_ms_p50: d.stages.prefill.summary().p50,
    kept_fraction: Number.isFinite(d.keptFraction) ? d.keptFraction : null,
    answer: { status: a.status, text: a.text },
    answers,
    ...(backbone.config?.progress_head === true ? progressFigures(progress) : {}),
  };
}

function progressFigures(values: readonly number[]): { progress_p50?: number; progress_n: number; progress_last?: number } {
  if (values.length === 0) return { progress_n: 0 };
  const sorted = [...values].sort((x, y) => x - y);
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return { progress_p50: round(sorted[Math.ceil(sorted.length / 2) - 1]), progress_n: values.length, progress_last: round(values[values.length - 1]) };
}

function backboneLine(b: BackboneSummary): string {
  if (b.state !== "ready") return `backbone: ${b.answer.text}`;
  const what = b.trained ? "trained model" : "untrained seeded-random model: latency only, no answers";
  return `backbone (${what}): ${b.frames_done}/${b.frames_in} frames processed (${b.frames_dropped} superseded or refused), ` +
    `per frame p50 ${b.frame_ms.p50} ms, p99 ${b.frame_ms.p99} ms (encode + project ${b.encode_ms_p50}, prefill ${b.prefill_ms_p50} ms, last 10 s)` +
    (b.progress_p50 !== undefined ? `; progress head p50 ${b.progress_p50} over ${b.progress_n} frames, last ${b.progress_last}` : "") +
    `; to a question it says: ${b.answer.text}`;
}
