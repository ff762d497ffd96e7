import type { Command } from "commander";
import { NOISE_MODELS } from "../../sim/sim_arguments.js";
import type { NoiseModel } from "../../sim/sensor_noise.js";
import { choiceArg, creatableDirArg, listArg, numberArg, seedArg, UsageError } from "./cli_args.js";

/** Longest --task and --operator (they go into the episode's metadata record). */
const MAX_TEXT = 4096;
/** Longest --duration: a day; longer sessions are several episodes. */
const MAX_DURATION_S = 86_400;
/** The simulator's seeds (sim/sim_arguments.ts SEED_LIMIT − 1), repeated so that --help loads no simulator. */
const MAX_SIM_SEED = 0xffffffff;

export interface CollectOptions {
  sim: boolean;
  /** "embedded" or an mqtt:// / mqtts:// URL (checked in the action). */
  broker: string;
  /** Seconds; 0 = until SIGINT/SIGTERM. */
  duration: number;
  out: string;
  json: boolean;
  /** Default: the simulator's instruction with --sim, else "". */
  task?: string;
  operator: string;
  seed?: number;
  /** Recorder topic entries beyond the defaults: "topic:pkg/msg/Type[:qos]". */
  topics: string[];
  /** The simulated camera's sensor model (with --sim). */
  noise: NoiseModel;
}

function text(flag: string): (value: string) => string {
  return (value) => {
    if (value.length > MAX_TEXT) throw new UsageError(`${flag} is ${value.length} characters long; at most ${MAX_TEXT} are accepted`);
    return value;
  };
}

/** `spatial-reward collect`: registered by program.ts; its code loads only when it runs. */
export function addCollectCommand(program: Command, version: string, done: (code: number) => void): Command {
  return program.command("collect")
    .summary("record a teleop episode: mocap over MQTT, camera, answers and rewards into one MCAP file")
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "print this help")
    .description(
      "Starts what a teleop data-collection session needs in one process (in-process transport): the MQTT broker " +
      "(--broker embedded: aedes on 127.0.0.1, port 1883, or an ephemeral port with --sim; or an mqtt(s):// URL), " +
      "mocap_ingest, the perception, spatial and reward nodes, and the recorder; records one episode for --duration " +
      "seconds into --out as MCAP and prints live progress and a summary. With --sim the simulator supplies the camera " +
      "topics and streams the same scripted teleop episode as motion capture over MQTT at 240 Hz (a device clock 3.2 s " +
      "off the host's, which the ingest estimates). Without --sim it records what arrives: camera topics from a real " +
      "driver (camera/color/image_raw, camera/aligned_depth_to_color/image_raw, camera/color/camera_info, best effort) " +
      "and mocap frames published by a mocap system to <broker>/mocap/<stream>/frame; --topics adds recorded topics. " +
      "SIGINT/SIGTERM ends the episode cleanly. Exit 1 when anything was lost (a mocap frame sent and not received, a " +
      "message the recorder could not write).",
    )
    .option("--sim", "the simulator supplies the camera topics and the mocap stream", false)
    .option("--broker <B>", "embedded | mqtt://host[:port] | mqtts://host[:port]", "embedded")
    .option("--duration <S>", `seconds to record, 0–${MAX_DURATION_S} (0 = until SIGINT/SIGTERM)`, numberArg("--duration", { min: 0, max: MAX_DURATION_S }), 10)
    .option("--out <DIR>", "directory of the episode files (created if missing)", creatableDirArg("--out"), "episodes")
    .option("--task <TEXT>", "the task, as told to the operator (default with --sim: the scripted instruction)", text("--task"))
    .option("--operator <NAME>", "who drives the robot (default: $USER)", text("--operator"), process.env.USER ?? "")
    .option("--seed <N>", `scene seed (with --sim: the simulator's, default 7; 0–${MAX_SIM_SEED})`, seedArg("--seed", MAX_SIM_SEED))
    .option("--noise <M>", "with --sim, the camera's sensor model: none | realsense (none costs about a third less CPU)", choiceArg("--noise", NOISE_MODELS), "realsense")
    .option("--topics <LIST>", "more topics to record, comma-separated topic:pkg/msg/Type[:reliable|best_effort|latched]", listArg("--topics", (t) => t), [])
    .option("--json", "print one JSON summary as the last stdout line", false)
    .action(async (o: CollectOptions) => {
      if (o.broker !== "embedded") {
        const { parseBrokerUrl } = await import("../mqtt/mqtt_connection.js");
        try {
          parseBrokerUrl(o.broker);
        } catch (e) {
          throw new UsageError(`--broker: ${(e as Error).message}`);
        }
      }
      if (o.topics.length > 0) {
        const { parseTopicEntry } = await import("../../src/record/topic_list.js");
        for (const t of o.topics) {
          try {
            parseTopicEntry(t);
          } catch (e) {
            throw new UsageError(`--topics: ${(e as Error).message}`);
          }
        }
      }
      done(await (await import("./collect.js")).run(o));
    });
}
