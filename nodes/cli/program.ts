import { Command } from "commander";
import type { RosArgs } from "../../src/ros/ros_args.js";
import { ROS_ARGUMENTS } from "../../src/ros/ros_args.js";
import { MAX_QUESTION_LENGTH } from "../../src/spatial/question_parser.js";
import { normalizeNamespace } from "../../src/transport/names.js";
import type { NoiseModel } from "../../sim/index.js";
import { MAX_IMAGE_SIDE } from "../../sim/camera_placement.js";
import { NOISE_MODELS, SEED_LIMIT } from "../../sim/sim_arguments.js";
import { MAX_EPISODE_FRAMES, MIN_EPISODE_FRAMES } from "../../sim/teleop.js";
import type { NodeName } from "../graph_launcher.js";
import type { Backend } from "../transport_factory.js";
import {
  choiceArg, creatableDirArg, intArg, listArg, numberArg, readableFileArg, seedArg, UsageError, writableFileArg,
} from "./cli_args.js";
import { addCollectCommand } from "./collect_command.js";
import { reportDirArg } from "../report/report_dir.js";
import { addExportCommand } from "./export_command.js";
import { addRecordCommand } from "./record_command.js";
import { addMocapBenchCommand } from "./mocap_command.js";
import { addMocapImportCommand } from "./mocap_import_command.js";
import { packageVersion } from "./package_version.js";
import { foxgloveHostOption, foxgloveOption, type FoxgloveCliOptions } from "../foxglove/cli_options.js";
import type { QuestionTypeId } from "../../src/spatial/question_types.js";
import { questionTypesArg } from "./question_type_list.js";

/**
 * The `spatial-reward` command line: every command's options, their checks and help, in one
 * place. Commands' code is loaded only when the command runs, after its arguments passed.
 */

export const MASK_SOURCES = ["gt", "detections"] as const;
export type MaskSource = (typeof MASK_SOURCES)[number];
// The node and backend names, kept here so that help and argument errors never load the node
// graph or a transport (a broken native build must not break --help). The types below fail to
// compile when these lists and graph_launcher's / transport_factory's disagree.
export const NODE_NAMES = ["sim_camera", "perception", "spatial", "reward", "backbone", "mocap_ingest", "recorder"] as const satisfies readonly NodeName[];
export const BACKENDS = ["inproc", "dds", "rclnodejs"] as const satisfies readonly Backend[];
type Exhaustive<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : false;
const nodeNamesComplete: Exhaustive<NodeName, (typeof NODE_NAMES)[number]> = true;
const backendsComplete: Exhaustive<Backend, (typeof BACKENDS)[number]> = true;
void nodeNamesComplete;
void backendsComplete;

// The simulator's own limits (sim/), so that what passes here never fails there at run time.
/** The smallest image side the CLI accepts (the simulator's is 8; smaller images hold no scene). */
const MIN_IMAGE_SIDE = 16;
/** Camera field of view the simulator accepts (sim/camera_placement.ts cameraOptions). */
const HFOV_RANGE = { min: 1, max: 170 };
const MAX_SEED = SEED_LIMIT - 1;
/**
 * `eval --progress-episodes` when not given: commander leaves the option undefined and eval.ts
 * applies this, so that the flag given with --source engine can be told apart and refused.
 */
export const DEFAULT_PROGRESS_EPISODES = 8;
const MAX_PROGRESS_EPISODES = 1000;
/** The demo's episode: the graph needs about a second of frames to settle before the task starts. */
const MIN_DEMO_FRAMES = 30;

export interface DemoOptions extends FoxgloveCliOptions { frames: number; seed: number; noise: NoiseModel; json: boolean; backbone: boolean; model?: string; report?: string }
export const ANSWER_SOURCES = ["engine", "backbone"] as const;
export type AnswerSource = (typeof ANSWER_SOURCES)[number];
export interface EvalOptions {
  scenes: number; seed: number; noise: NoiseModel; width: number; height: number; hfovDeg: number;
  masks: MaskSource; perType: number; log?: string; json: boolean;
  /** --report DIR: figures and a page (nodes/report/). */
  report?: string;
  source: AnswerSource; model?: string; coarseToFine: boolean;
  /** Scripted episodes for the progress head (--source backbone); undefined = not given (eval.ts's default). */
  progressEpisodes?: number;
  /** Stacked scenes (sim/eval_scene.ts): each support carries an object with this probability; undefined = the original scenes. */
  stacking?: number;
  /** Cluttered scenes seen close up (sim/eval_scene.ts). */
  clutter: boolean;
  /** Also ask the paraphrase set (src/eval/paraphrase_set.ts) on each scene, against its canonical questions. */
  paraphrases: boolean;
  /** --types: the question types asked (ids; categories expanded); undefined = every type. */
  types?: QuestionTypeId[];
}
export interface AskOptions { seed: number; noise: NoiseModel; masks: MaskSource; json: boolean; source: AnswerSource; model?: string }
export interface BenchOptions { frames: number; seed: number; noise: NoiseModel; queries: number; schedule: BenchSchedule; json: boolean }
/** How the bench's two perception paths take turns (bench/pipeline_bench.ts). */
export const BENCH_SCHEDULES = ["blocks", "interleaved"] as const;
export type BenchSchedule = (typeof BENCH_SCHEDULES)[number];
export interface LaunchOptions extends FoxgloveCliOptions { backend: Backend; namespaces: string[]; duration: number; frames?: number; json: boolean }
export interface NodeOptions extends FoxgloveCliOptions { backend: Backend }
export interface SimOptions extends FoxgloveCliOptions { backend: Backend; rate?: number; seed?: number; frames?: number; noise?: NoiseModel }
export interface SimDumpOptions { out: string; seed: number; frames: number; noise: NoiseModel; width: number; height: number }
export interface BackboneInfoOptions { model: string; json: boolean }
export interface BackboneInitOptions { out: string; seed: number; config?: string; json: boolean }
export interface BackboneBenchOptions { json: boolean; quick: boolean; config?: string; contexts?: readonly number[] }

/** What main passes in: the ROS arguments split off the command line before commander saw it. */
export interface CliContext {
  rosArgs: RosArgs;
}

const noise = choiceArg("--noise", NOISE_MODELS);
/** A model folder path: non-empty (the folder itself is checked when it is read: ModelError, exit 1). */
const modelDirArg = (text: string): string => {
  if (text.trim() === "") throw new UsageError("--model must name a folder, got \"\"");
  return text;
};

/** --source backbone needs --model; --model means nothing to the engine. */
function checkSource(source: AnswerSource, model: string | undefined): void {
  if (source === "backbone" && model === undefined) throw new UsageError("--source backbone needs --model <DIR> (a model folder; `spatial-reward backbone init` writes a seeded-random one)");
  if (source !== "backbone" && model !== undefined) throw new UsageError("--model needs --source backbone");
}
const seed = (flag = "--seed") => seedArg(flag, MAX_SEED);
const backend = choiceArg("--backend", BACKENDS);

/**
 * The `mocap` command group (`mocap import`, `mocap bench`): created by whichever mocap
 * command registers first, so each registers in its own block without depending on the other.
 */
function mocapGroup(program: Command, version: string): Command {
  const existing = program.commands.find((c) => c.name() === "mocap");
  if (existing) return existing;
  return program.command("mocap")
    .summary("motion capture: import BVH files, benchmark the ingest")
    .description("Motion capture tools: `mocap import` converts BVH files into MocapFrame recordings; `mocap bench` measures the MQTT ingest under load.")
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "print this help");
}

/** The program; `done(code)` receives the exit code of the command that ran. */
export function buildProgram(ctx: CliContext, done: (code: number) => void): Command {
  const version = packageVersion();
  const program = new Command("spatial-reward")
    .description("Spatial answers and rearrangement rewards from RGB-D frames: ROS 2 nodes, simulator and evaluation.")
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "print this help")
    .helpCommand("help [command]", "print the help of a command")
    .exitOverride()
    // main prints every error as one line; commander prints only help and the version.
    .configureOutput({ outputError: () => {} });
  const command = (name: string, summary: string): Command =>
    program.command(name).summary(summary).version(version, "-V, --version", "print the version").helpOption("-h, --help", "print this help");

  command("demo", "simulator → nodes → answers and rewards over the in-process transport")
    .description(
      "Runs one scripted pick-and-place episode through the node graph over the in-process transport: " +
      "simulator camera → perception → spatial (questions via the spatial_query service) and reward " +
      "(the episode's instruction as reward_spec). Live progress on stderr.",
    )
    .option("--frames <N>", `episode length in frames at 30 Hz (${MIN_DEMO_FRAMES}–${MAX_EPISODE_FRAMES})`, intArg("--frames", { min: MIN_DEMO_FRAMES, max: MAX_EPISODE_FRAMES }), 300)
    .option("--seed <S>", "scene seed", seed(), 7)
    .option("--noise <M>", "sensor model: none | realsense", noise, "realsense")
    .option("--backbone", "also run the backbone node on the camera frames and report its per-frame latency (a seeded-random model unless --model)", false)
    .option("--model <DIR>", "the backbone's model folder (with --backbone)")
    .option("--report <DIR>", "write a report to DIR (new, empty or an earlier report): index.html with the camera frame and its 3D boxes, the reward curve and the key numbers", reportDirArg("--report"))
    .option("--json", "print one JSON summary as the last stdout line", false)
    .addOption(foxgloveOption())
    .addOption(foxgloveHostOption())
    .action(async (o: DemoOptions) => {
      if (o.model !== undefined && !o.backbone) throw new UsageError("--model needs --backbone");
      done(await (await import("./demo.js")).run(o));
    });

  command("eval", "score every question type against simulator ground truth")
    .description(
      "Fresh seeded scenes; every question type asked about the ground truth, answered from the " +
      "rendered frame alone, scored with the definitions in src/spatial/DEFINITIONS.md.",
    )
    .option("--scenes <N>", "number of scenes", intArg("--scenes", { min: 1, max: 1_000_000 }), 50)
    .option("--seed <S>", "first scene seed", seed(), 100000)
    .option("--noise <M>", "sensor model: none | realsense", noise, "none")
    .option("--width <W>", `image width in pixels (${MIN_IMAGE_SIDE}–${MAX_IMAGE_SIDE})`, intArg("--width", { min: MIN_IMAGE_SIDE, max: MAX_IMAGE_SIDE }), 640)
    .option("--height <H>", `image height in pixels (${MIN_IMAGE_SIDE}–${MAX_IMAGE_SIDE})`, intArg("--height", { min: MIN_IMAGE_SIDE, max: MAX_IMAGE_SIDE }), 480)
    .option("--hfov-deg <F>", `horizontal field of view in degrees (${HFOV_RANGE.min}–${HFOV_RANGE.max})`, numberArg("--hfov-deg", HFOV_RANGE), 69)
    .option("--masks <M>", "segmentation given to perception: gt (instance masks) | detections (2D boxes)", choiceArg("--masks", MASK_SOURCES), "gt")
    .option("--per-type <K>", "questions per type and scene", intArg("--per-type", { min: 1, max: 1000 }), 2)
    .option("--log <FILE>", "write every question and answer as JSONL (the directory must exist)", writableFileArg("--log"))
    .option("--report <DIR>", "write a report to DIR (new, empty or an earlier report): index.html with accuracy per question type, a camera frame with its 3D boxes and the key numbers", reportDirArg("--report"))
    .option("--source <S>", "who answers: engine (perception + spatial engine on RGB-D) | backbone (the model on the RGB frame alone)", choiceArg("--source", ANSWER_SOURCES), "engine")
    .option("--model <DIR>", "the backbone's model folder (with --source backbone)", modelDirArg)
    .option("--coarse-to-fine", "encode frames coarse-to-fine (with --source backbone; reports the kept fraction)", false)
    .option(
      "--progress-episodes <K>",
      `scripted teleop episodes from seeds S…S+K−1 on which the progress head is scored against ground truth (with --source backbone and a model with a progress head; 0–${MAX_PROGRESS_EPISODES}, default ${DEFAULT_PROGRESS_EPISODES})`,
      intArg("--progress-episodes", { min: 0, max: MAX_PROGRESS_EPISODES }),
    )
    .option("--stacking <P>", "stacked scenes: each book, box, plate or cube carries another object with probability P (0–1); adds the `stacked` figures (elevation, above/below of stacked pairs, \"on top of\" rewards)", numberArg("--stacking", { min: 0, max: 1 }))
    .option("--clutter", "cluttered scenes seen close up: 12–20 objects, partial occlusion, objects cut by the image border; objects under half in sight are left out of the questions, masks and detections; adds the `clutter` figures", false)
    .option("--paraphrases", "also ask each scene the paraphrase set (questions as people type them, bound to the scene's objects) and each one's canonical question; adds the `paraphrases` figures (understood, same answer, first failures)", false)
    .option("--types <LIST>", "ask only these question types: comma-separated type ids and categories (qualitative, choice, quantitative, clock, count, color, superlative); default every type", questionTypesArg("--types"))
    .option("--json", "print one JSON summary as the last stdout line", false)
    .action(async (o: EvalOptions) => {
      if ((o.stacking !== undefined || o.clutter) && o.source !== "engine") throw new UsageError(`${o.clutter ? "--clutter" : "--stacking"} needs --source engine`);
      if (o.paraphrases && o.source !== "engine") throw new UsageError("--paraphrases needs --source engine");
      // Scene i uses seed + i: the last one must still be a seed.
      if (o.seed + o.scenes - 1 > MAX_SEED) throw new UsageError(`--seed ${o.seed} with --scenes ${o.scenes} runs past the largest seed, ${MAX_SEED}`);
      checkSource(o.source, o.model);
      if (o.coarseToFine && o.source !== "backbone") throw new UsageError("--coarse-to-fine needs --source backbone");
      if (o.progressEpisodes !== undefined && o.source !== "backbone") throw new UsageError("--progress-episodes needs --source backbone");
      // Episode i uses seed + i too.
      const episodes = o.source === "backbone" ? (o.progressEpisodes ?? DEFAULT_PROGRESS_EPISODES) : 0;
      if (o.seed + episodes - 1 > MAX_SEED) throw new UsageError(`--seed ${o.seed} with --progress-episodes ${episodes} runs past the largest seed, ${MAX_SEED}`);
      done(await (await import("./eval.js")).run(o));
    })

  command("ask", "answer a question about a seeded simulator scene")
    .description(
      "Answers a question about the seeded simulator scene (the same scene eval uses for that seed), " +
      "from the rendered frame alone. Exit code 1 when the answer is a refusal (unknown object...).",
    )
    .argument("<question...>", `the question (at most ${MAX_QUESTION_LENGTH} characters)`)
    .option("--seed <S>", "scene seed", seed(), 0)
    .option("--noise <M>", "sensor model: none | realsense", noise, "none")
    .option("--masks <M>", "segmentation: gt | detections", choiceArg("--masks", MASK_SOURCES), "gt")
    .option("--source <S>", "who answers: engine | backbone (the model on the RGB frame alone; an untrained model's text is never presented)", choiceArg("--source", ANSWER_SOURCES), "engine")
    .option("--model <DIR>", "the backbone's model folder (with --source backbone)", modelDirArg)
    .option("--json", "print the answer as JSON", false)
    .action(async (words: string[], o: AskOptions) => {
      checkSource(o.source, o.model);
      const question = words.join(" ");
      if (question.trim() === "") throw new UsageError("the question is empty");
      if (question.length > MAX_QUESTION_LENGTH) {
        throw new UsageError(`the question is ${question.length} characters long; at most ${MAX_QUESTION_LENGTH} are accepted`);
      }
      done(await (await import("./ask.js")).run(question, o));
    });

  command("bench", "per-stage latency and throughput of the pipeline")
    .description(
      "Per-stage latency (render, lift + scene graph, Q spatial queries, reward) at 640x480 with " +
      "8 objects, and the state-only reward rate from poses.",
    )
    .option("--frames <N>", `frames to measure (${MIN_EPISODE_FRAMES}–${MAX_EPISODE_FRAMES})`, intArg("--frames", { min: MIN_EPISODE_FRAMES, max: MAX_EPISODE_FRAMES }), 300)
    .option("--seed <S>", "scene seed", seed(), 11)
    .option("--noise <M>", "sensor model: none | realsense", noise, "none")
    .option("--queries <Q>", "spatial queries per frame", intArg("--queries", { min: 1, max: 10_000 }), 40)
    .option("--schedule <S>", "how the TS and native paths take turns: blocks (of 30 frames, as a node running one path sees its caches) | interleaved (frame by frame)", choiceArg("--schedule", BENCH_SCHEDULES), "blocks")
    .option("--json", "print one JSON summary as the last stdout line", false)
    .action(async (o: BenchOptions) => done(await (await import("./bench.js")).run(o)));

  command("launch", "start the node graph of a ROS 2 parameter file in one process (no ROS needed)")
    .description(
      "Starts the nodes named in a ROS 2 parameter file (e.g. launch/params/tabletop.yaml) in one " +
      "process — the graph the ROS 2 launch files start, without ROS (inproc, the default) or on the " +
      "ROS 2 wire (dds). --namespaces starts one graph per namespace (one per camera). Runs for " +
      "--duration seconds (0 = until SIGINT/SIGTERM) or until the simulator has published --frames frames.",
    )
    .argument("<params.yaml>", "ROS 2 parameter file", readableFileArg("the parameter file"))
    .option("--backend <B>", `transport: ${BACKENDS.join(" | ")}`, backend, "inproc")
    .option("--namespaces <NS>", "comma-separated namespaces, one graph each", listArg("--namespaces", (ns) => {
      normalizeNamespace(ns);
      return ns;
    }), ["/"])
    .option("--duration <S>", "seconds to run, ≥ 0 (0 = until SIGINT/SIGTERM)", numberArg("--duration", { min: 0 }), 10)
    .option("--frames <N>", "stop once the simulator has published N frames (≥ 1)", intArg("--frames", { min: 1 }))
    .option("--json", "print the summary as one JSON line", false)
    .addOption(foxgloveOption())
    .addOption(foxgloveHostOption())
    .action(async (file: string, o: LaunchOptions) => done(await (await import("./launch.js")).run(file, o)));

  command("node", "start one node with ROS 2 arguments (--ros-args -r/-p/--params-file)")
    .usage(`<${NODE_NAMES.join("|")}> [options] [--ros-args ...]`)
    .description(
      `Starts one node with the standard ROS 2 arguments after --ros-args: ${ROS_ARGUMENTS}. ` +
      "Runs until SIGINT/SIGTERM. Backends: dds (Cyclone DDS, speaks ROS 2 on the wire; network " +
      "settings from CYCLONEDDS_URI, domain from ROS_DOMAIN_ID), rclnodejs (a sourced ROS 2 host), " +
      "inproc (this process only).",
    )
    .argument("<name>", `the node: ${NODE_NAMES.join(" | ")}`, choiceArg("the node name", NODE_NAMES))
    .option("--backend <B>", `transport: ${BACKENDS.join(" | ")}`, backend, "inproc")
    .addOption(foxgloveOption())
    .addOption(foxgloveHostOption())
    .action(async (name: NodeName, o: NodeOptions) => done(await (await import("./node.js")).run(name, o, ctx.rosArgs)));

  command("sim", "publish the simulator's camera topics and ground truth on any backend")
    .usage("[options] [--ros-args ...]")
    .description(
      "Publishes the simulator's camera topics (camera/color/image_raw, aligned depth, camera_info, " +
      "instance masks, 2D detections), its ground truth (sim/truth) and the episode's task " +
      "(reward/spec) on any backend: the sim_camera node with these options as parameters " +
      "(-p and --params-file after --ros-args override them). Runs until SIGINT/SIGTERM.",
    )
    .option("--backend <B>", `transport: ${BACKENDS.join(" | ")}`, backend, "inproc")
    .option("--rate <HZ>", "frames per second, in (0, 1000]", numberArg("--rate", { min: 0, minExclusive: true, max: 1000 }))
    .option("--seed <S>", "scene seed (default 7)", seed())
    .option("--frames <N>", `episode length (${MIN_EPISODE_FRAMES}–${MAX_EPISODE_FRAMES}, default 300)`, intArg("--frames", { min: MIN_EPISODE_FRAMES, max: MAX_EPISODE_FRAMES }))
    .option("--noise <M>", "sensor model: none | realsense (default realsense)", noise)
    .addOption(foxgloveOption())
    .addOption(foxgloveHostOption())
    .action(async (o: SimOptions) => done(await (await import("./sim.js")).run(o, ctx.rosArgs)));

  command("sim-dump", "write simulator frames and ground truth as raw files (for the DDS interop peers)")
    .description(
      "Writes the seeded teleop episode as raw frames for programs outside Node (the DDS interop " +
      "peers): DIR/meta.txt, DIR/frame_NNNNN.bin (format: sim/frame_dump.ts), DIR/spec.txt (the " +
      "task as a reward spec) and DIR/truth.jsonl (per frame: the reward of that spec on the " +
      "simulator's ground truth, and every object's true centre and size in the spatial frame).",
    )
    .requiredOption("--out <DIR>", "output directory (created if missing)", creatableDirArg("--out"))
    .option("--seed <S>", "scene seed", seed(), 7)
    .option("--frames <N>", `episode length (${MIN_EPISODE_FRAMES}–${MAX_EPISODE_FRAMES})`, intArg("--frames", { min: MIN_EPISODE_FRAMES, max: MAX_EPISODE_FRAMES }), 150)
    .option("--noise <M>", "sensor model: none | realsense", noise, "realsense")
    .option("--width <W>", `image width in pixels (${MIN_IMAGE_SIDE}–${MAX_IMAGE_SIDE})`, intArg("--width", { min: MIN_IMAGE_SIDE, max: MAX_IMAGE_SIDE }), 640)
    .option("--height <H>", `image height in pixels (${MIN_IMAGE_SIDE}–${MAX_IMAGE_SIDE})`, intArg("--height", { min: MIN_IMAGE_SIDE, max: MAX_IMAGE_SIDE }), 480)
    .action(async (o: SimDumpOptions) => done(await (await import("./sim_dump.js")).run(o)));

  // ---- collect: a teleop recording session (nodes/cli/collect_command.ts) ----
  addCollectCommand(program, version, done);
  // ---- end collect ----

  addExportCommand(program, version, done);
  addRecordCommand(program, version, done);

  // ---- mocap: `mocap import` (BVH → MocapFrames; nodes/cli/mocap_import_command.ts) ----
  addMocapImportCommand(mocapGroup(program, version), version, done);
  // ---- end mocap import ----
  // ---- mocap: `mocap bench` (nodes/cli/mocap_command.ts; finds or creates the mocap group) ----
  addMocapBenchCommand(program, version, done);
  // ---- end mocap bench ----

  const backboneCommand = command("backbone", "the Cobra-style backbone model: info, init, bench")
    .description(
      "The vision-language backbone (vision encoders → projector → Mamba) the backbone node runs: " +
      "describe a model folder (models/README.md), write a seeded-random one, or benchmark the runtime.",
    );
  const backbone = (name: string, summary: string): Command =>
    backboneCommand.command(name).summary(summary).version(version, "-V, --version", "print the version").helpOption("-h, --help", "print this help");
  backbone("info", "print a model folder's config, parameter count, state size and graphs")
    .description(
      "Reads a model folder (config.json, model.safetensors, tokenizer.json; models/README.md), checks it " +
      "and prints its config, parameter count, state bytes per stream and every graph's inputs and outputs " +
      "with shapes. A folder that cannot be used exits 1 naming the file and tensor.",
    )
    .requiredOption("--model <DIR>", "the model folder")
    .option("--json", "print one JSON object", false)
    .action(async (o: BackboneInfoOptions) => done(await (await import("./backbone.js")).runInfo(o)));
  backbone("init", "write a seeded-random model folder (untrained: for timing, never for answers)")
    .description(
      "Writes a model folder with seeded-random weights (Mamba's own initialisation) and the default " +
      "byte-level tokenizer, marked trained: false. The config is the tiny default unless --config gives one.",
    )
    .requiredOption("--out <DIR>", "output folder (created if missing; must not hold a model)", creatableDirArg("--out"))
    .option("--seed <N>", "weight seed", seed(), 0)
    .option("--config <FILE>", "a config.json to use instead of the tiny default", readableFileArg("--config"))
    .option("--json", "print one JSON summary", false)
    .action(async (o: BackboneInitOptions) => done(await (await import("./backbone.js")).runInit(o)));
  backbone("bench", "per-token latency (SSM vs transformer), per-frame latency, streams, coarse-to-fine")
    .description(
      "Measures the backbone's goals side by side in one run: per-token latency of the Mamba step and of a " +
      "KV-cache transformer of the same size at contexts 256..16384 (batch 1 and 8), per-frame latency, " +
      "1/4/16 streams (fps, RSS) and coarse-to-fine encoder time, on the tiny default with seeded-random " +
      "weights. Progress on stderr; --json prints one JSON object as the last stdout line.",
    )
    .option("--json", "print one JSON summary as the last stdout line", false)
    .option("--quick", "fewer iterations (a smoke run; figures are noisier)", false)
    .option("--config <FILE>", "a config.json to measure instead of the tiny default (token latency, streams)", readableFileArg("--config"))
    .option(
      "--contexts <LIST>",
      "per-token latency contexts, comma-separated (default 256,1024,4096,16384)",
      listArg("--contexts", intArg("--contexts", { min: 1, max: 65536 })),
    )
    .action(async (o: BackboneBenchOptions) => done(await (await import("./backbone_bench.js")).run(o)));

  return program;
}
