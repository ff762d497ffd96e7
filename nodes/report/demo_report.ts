import type { PinholeIntrinsics } from "../../src/geometry/intrinsics.js";
import type * as M from "../../src/msgs/generated.js";
import { parseRewardSpec } from "../../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../../src/reward/reward_tracker.js";
import type { Scene } from "../../src/scene/scene_object.js";
import { displayName } from "../../src/scene/scene_object.js";
import type { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT, QOS_TF } from "../../src/transport/qos.js";
import type { Capture, TeleopScenario } from "../../sim/index.js";
import { trueSpatialFrame } from "../../sim/index.js";
import { T, sceneFromMsg, stampOf } from "../messages.js";
import { rotationFromTf } from "./box_projection.js";
import { figureBackend } from "./figure_backend.js";
import { drawFrameFigure, type FrameFigure } from "./frame_figure.js";
import { ReportDir, REPORT_FORMAT, type ReportFile } from "./report_dir.js";
import { renderPage, type PageFigure, type PageTable } from "./report_page.js";
import { drawRewardFigure, type RewardPoint } from "./reward_figure.js";

/** The demo's summary, the fields the report shows (nodes/cli/demo.ts prints the same object with --json). */
export interface DemoSummary {
  task: string;
  seed: number;
  noise: string;
  frames: number;
  hz: number;
  latency_ms: { p50: number; p99: number };
  answers: number;
  answers_ok: number;
  reward_final: number | null;
  progress_final: number | null;
  success: boolean;
  success_frame: number;
  true_success_frame: number;
  place_frame: number;
  sample_answers: readonly { frame: number; question: string; answer: string; status: number }[];
}

/** A frame kept for a figure: its pixels (copied: the sensor reuses its buffers) and what was seen in it. */
interface Snapshot {
  frame: number;
  rgb: Uint8Array;
  width: number;
  height: number;
  encoding: string;
  intrinsics: PinholeIntrinsics;
  scene: Scene;
  rotation: Float64Array;
  truth: Scene;
}

/** Snapshots of one image size share buffers: the latest frame is copied into one reused per frame. */
function copyInto(target: Snapshot | null, f: number, cap: Capture, scene: Scene, rotation: Float64Array): Snapshot {
  const img = cap.frame.rgb;
  const bytes = img.width * 3;
  const rgb = target && target.rgb.length === bytes * img.height ? target.rgb : new Uint8Array(bytes * img.height);
  for (let v = 0; v < img.height; v++) rgb.set(img.data.subarray(v * img.step, v * img.step + bytes), v * bytes);
  return {
    frame: f, rgb, width: img.width, height: img.height, encoding: img.encoding, intrinsics: cap.frame.intrinsics,
    scene, rotation, truth: { ...cap.truth, objects: cap.truth.objects.map((o) => ({ ...o, center: { ...o.center }, size: { ...o.size } })) },
  };
}

/**
 * `demo --report DIR`: watches the demo's graph as any subscriber would (the reward, the scene
 * and perception's /tf, matched to each camera frame by stamp) and writes the camera frame at
 * the start and at the moment of success with the perceived 3D boxes projected and labelled,
 * the reward and progress over the episode, and a page with the key numbers.
 */
export class DemoReport {
  private readonly points: RewardPoint[] = [];
  private readonly truthTracker: RewardTracker;
  private readonly trueRotation: Float64Array;
  private reward: M.spatial_reward_msgs__msg__Reward | null = null;
  private scene: M.spatial_reward_msgs__msg__SceneObjects | null = null;
  private tf: M.tf2_msgs__msg__TFMessage | null = null;
  private start: Snapshot | null = null;
  private success: Snapshot | null = null;
  /** The latest frame perception published a scene for: the figure when success never comes. */
  private latest: Snapshot | null = null;
  private framesWithoutScene = 0;

  private constructor(private readonly dir: ReportDir, transport: InprocTransport, scenario: TeleopScenario) {
    this.truthTracker = new RewardTracker(parseRewardSpec(scenario.episode.instruction));
    this.trueRotation = trueSpatialFrame(scenario.world, scenario.camera).rotation;
    const node = transport.createNode("report");
    node.createSubscription<M.spatial_reward_msgs__msg__Reward>(T.Reward, "reward", QOS_DEFAULT, (r) => (this.reward = r));
    node.createSubscription<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects", QOS_DEFAULT, (s) => (this.scene = s));
    node.createSubscription<M.tf2_msgs__msg__TFMessage>(T.TFMessage, "/tf", QOS_TF, (t) => (this.tf = t));
  }

  /** Creates DIR now (a place that cannot be written fails before the episode) and subscribes to the graph. */
  static open(dir: string, transport: InprocTransport, scenario: TeleopScenario): DemoReport {
    return new DemoReport(ReportDir.open(dir), transport, scenario);
  }

  /** After camera frame `f` was published (the in-process graph has answered it by then). */
  frame(f: number, cap: Capture): void {
    const stamp = cap.frame.stamp;
    const r = this.reward && stampOf(this.reward) === stamp ? this.reward : null;
    const truth = this.truthTracker.update(cap.truth);
    this.points.push({ frame: f, progress: r ? r.progress : null, reward: r ? r.reward : null, trueProgress: truth.progress });
    const s = this.scene && stampOf(this.scene) === stamp ? this.scene : null;
    const t = this.tf?.transforms.find((x) => stampOf(x) === stamp) ?? null;
    if (!s || !t) {
      this.framesWithoutScene++;
      return;
    }
    const scene = sceneFromMsg(s);
    const rotation = rotationFromTf(t.transform.rotation);
    if (this.start === null) this.start = copyInto(null, f, cap, scene, rotation);
    else if (this.success === null && r?.success) this.success = copyInto(null, f, cap, scene, rotation);
    else if (this.success === null) this.latest = copyInto(this.latest, f, cap, scene, rotation);
  }

  /** Draws the figures and writes the page; returns the page's path. A failure takes back what this run wrote. */
  async write(summary: DemoSummary): Promise<string> {
    try {
      return await this.writeAll(summary);
    } catch (e) {
      this.dir.abandon();
      throw e;
    }
  }

  private async writeAll(summary: DemoSummary): Promise<string> {
    const backend = await figureBackend();
    const figures: PageFigure[] = [];
    const notes: string[] = [];
    if (backend.fontFamily === "") notes.push("No font was found on this system: the figures have no text (Debian: apt install fonts-dejavu-core).");
    const frameFigure = async (file: ReportFile, snap: Snapshot, what: string): Promise<FrameFigure> => {
      const fig = await drawFrameFigure({
        image: { width: snap.width, height: snap.height, encoding: snap.encoding, step: snap.width * 3, data: snap.rgb },
        intrinsics: snap.intrinsics,
        perceived: { scene: snap.scene, rotation: snap.rotation },
        truth: { scene: snap.truth, rotation: this.trueRotation },
        caption: `frame ${snap.frame}: ${what}. Boxes: perceived (colour), ground truth (dashed white).`,
      });
      this.dir.write(file, fig.png);
      figures.push({ file, caption: `Camera frame ${snap.frame} of ${summary.frames}, ${what}: the perceived 3D boxes projected with the camera intrinsics and labelled; the simulator's true boxes dashed.`, width: fig.width, height: fig.height });
      return fig;
    };
    const key = this.success ?? this.latest ?? this.start;
    const keyWhat = this.success ? "the first frame the reward node reported success" : "the last frame perceived (no success)";
    const keyFigure = key ? await frameFigure("frame.png", key, keyWhat) : null;
    if (this.start && this.start !== key) await frameFigure("frame_start.png", this.start, "the start of the episode");
    if (!key) notes.push("Perception published no scene for any frame: there is no camera figure.");
    if (this.framesWithoutScene > 0) notes.push(`${this.framesWithoutScene} of ${summary.frames} frames had no scene or transform from perception (the first ones while the graph starts, or frames it refused).`);

    const reward = await drawRewardFigure(this.points, { success: summary.success_frame, trueSuccess: summary.true_success_frame, place: summary.place_frame }, `"${summary.task}": reward and progress per frame`);
    this.dir.write("reward.png", reward);
    figures.splice(1, 0, { file: "reward.png", caption: "Progress (0 at the start, 1 when the task is done) as the reward node published it, the same spec on the ground truth, and the reward (minus the remaining error in metres); vertical lines: the object set down, the true success, the perceived success.", width: 900, height: 440 });

    const cm = (x: number) => (x * 100).toFixed(1);
    const tables: PageTable[] = [];
    if (key && keyFigure) {
      tables.push({
        title: `Objects perceived in frame ${key.frame}`,
        head: ["object", "id", "centre x, y, z (cm)", "size depth × width × height (cm)", "confidence"],
        rows: key.scene.objects.map((o) => [
          { text: displayName(o), swatch: keyFigure.labels.find((l) => l.id === o.id)?.color ?? "#000000" },
          o.id, `${cm(o.center.x)}, ${cm(o.center.y)}, ${cm(o.center.z)}`, `${cm(o.size.x)} × ${cm(o.size.y)} × ${cm(o.size.z)}`,
          Number.isFinite(o.confidence) ? o.confidence.toFixed(2) : "–",
        ]),
      });
    }
    if (summary.sample_answers.length > 0) {
      tables.push({ title: "Questions asked during the episode", head: ["frame", "question", "answer"], rows: summary.sample_answers.map((a) => [String(a.frame), a.question, a.answer]) });
    }
    const frameText = (f: number) => (f >= 0 ? `frame ${f}` : "never");
    const numbers: [string, string][] = [
      ["task", summary.task],
      ["success", summary.success ? "yes" : "no"],
      ["success (perceived)", frameText(summary.success_frame)],
      ["success (ground truth)", frameText(summary.true_success_frame)],
      ["object set down", frameText(summary.place_frame)],
      ["final reward / progress", `${summary.reward_final ?? "–"} / ${summary.progress_final ?? "–"}`],
      ["frames", `${summary.frames} at ${summary.hz} Hz (rendering included)`],
      ["frame → reward latency", `p50 ${summary.latency_ms.p50} ms, p99 ${summary.latency_ms.p99} ms`],
      ["answers", `${summary.answers_ok} of ${summary.answers} answered`],
      ["scene", `seed ${summary.seed}, sensor noise ${summary.noise}`],
    ];
    const created = new Date().toISOString();
    this.dir.write("report.json", `${JSON.stringify({ format: REPORT_FORMAT, version: 1, command: "demo", created, files: figures.map((f) => f.file), summary: { ...summary, sample_answers: undefined } }, null, 2)}\n`);
    this.dir.write("index.html", renderPage({
      title: `spatial-reward demo: ${summary.task}`,
      subtitle: `One scripted pick-and-place episode through the node graph (simulator → perception → spatial, reward), ${created}.`,
      numbers, figures, tables, notes,
    }));
    return this.dir.path("index.html");
  }
}
