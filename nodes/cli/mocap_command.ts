import type { Command } from "commander";
import { choiceArg, intArg, numberArg, UsageError } from "./cli_args.js";

/** Repeated from mocap_bench.ts so that `--help` and argument errors load no MQTT or broker code. */
const BENCH_BROKERS = ["embedded", "mosquitto"] as const;
/** The codec's limits (src/mocap/mocap_codec.ts DEFAULT_MOCAP_LIMITS): more would be refused as payload_too_large. */
const MAX_BODIES = 1024;
const MAX_JOINTS = 8192;
/** MQTT packet ids are 16-bit: a run longer than this many frames is fine, but one second must not need more in flight. */
const RATE = { min: 0, minExclusive: true, max: 2000 } as const;
const SECONDS = { min: 0, minExclusive: true, max: 3600 } as const;

export interface MocapBenchCliOptions {
  broker: (typeof BENCH_BROKERS)[number];
  rate: number;
  bodies: number;
  joints: number;
  seconds: number;
  json: boolean;
  restartBrokerAt?: number;
  brokerDownMs: number;
}

/**
 * `spatial-reward mocap bench`, registered by program.ts under the `mocap` group: the group is
 * found if another mocap command (`mocap import`) created it, else created here. The command's
 * code loads only when it runs.
 */
export function addMocapBenchCommand(program: Command, version: string, done: (code: number) => void): Command {
  const mocap = program.commands.find((c) => c.name() === "mocap") ?? program.command("mocap")
    .summary("motion capture: import BVH files, benchmark the ingest")
    .description("Motion capture tools: `mocap import` converts BVH files into MocapFrame recordings; `mocap bench` measures the MQTT ingest under load.")
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "print this help");
  const sub = (name: string, summary: string): Command =>
    mocap.command(name).summary(summary).version(version, "-V, --version", "print the version").helpOption("-h, --help", "print this help");

  sub("bench", "the ingest path under load: frames lost, latency, CPU")
    .description(
      "Publishes a stream of --bodies rigid bodies and a --joints-joint skeleton at --rate Hz for --seconds over MQTT " +
      "(QoS 1, persistent sessions) from a child process, through the embedded broker (aedes, in this process) or a " +
      "Mosquitto started on 127.0.0.1 (Debian's /usr/sbin/mosquitto), into mocap_ingest here. Reports frames sent, " +
      "received and lost, latency from the publish call to the ingest's MocapFrame output (p50/p99, CLOCK_MONOTONIC), " +
      "CPU of the ingest process (100 = one core), the publisher and Mosquitto, and rejections by counter. " +
      "With --restart-broker-at S (Mosquitto only) the broker is stopped S seconds into the run and started again " +
      "--broker-down-ms later (persistence on): broker_restart in the JSON reports the outage and the frame numbers that never " +
      "came out of the ingest. Exit 1 when a frame sent was not received (or a frame number is missing after a restart).",
    )
    .option("--broker <B>", `embedded | mosquitto`, choiceArg("--broker", BENCH_BROKERS), "embedded")
    .option("--rate <HZ>", "frames per second, in (0, 2000]", numberArg("--rate", RATE), 240)
    .option("--bodies <N>", `rigid bodies per frame (0–${MAX_BODIES})`, intArg("--bodies", { min: 0, max: MAX_BODIES }), 50)
    .option("--joints <N>", `skeleton joints per frame (0–${MAX_JOINTS})`, intArg("--joints", { min: 0, max: MAX_JOINTS }), 60)
    .option("--seconds <S>", "how long to publish, in (0, 3600]", numberArg("--seconds", SECONDS), 10)
    .option("--restart-broker-at <S>", "stop and restart Mosquitto this many seconds into the run (with --broker mosquitto)", numberArg("--restart-broker-at", SECONDS))
    .option("--broker-down-ms <MS>", "how long the broker stays down in --restart-broker-at (0–600000)", intArg("--broker-down-ms", { min: 0, max: 600_000 }), 1000)
    .option("--json", "print one JSON summary as the last stdout line", false)
    .action(async (o: MocapBenchCliOptions) => {
      if (Math.round(o.rate * o.seconds) < 1) throw new UsageError(`--rate ${o.rate} for --seconds ${o.seconds} publishes no frame`);
      if (o.restartBrokerAt !== undefined) {
        if (o.broker !== "mosquitto") throw new UsageError("--restart-broker-at needs --broker mosquitto (the embedded broker lives in the ingest's process)");
        if (o.restartBrokerAt >= o.seconds) throw new UsageError(`--restart-broker-at ${o.restartBrokerAt} must be less than --seconds ${o.seconds}`);
      }
      done(await (await import("./mocap_bench.js")).run({ ...o, restartBrokerAt: o.restartBrokerAt ?? null }));
    });
  return mocap;
}
