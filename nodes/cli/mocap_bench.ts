import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT } from "../../src/transport/qos.js";
import { MOCAP_COUNTER_KEYS } from "../../src/mocap/mocap_validator.js";
import type * as M from "../../src/msgs/generated.js";
import { MocapIngestNode } from "../mocap_ingest_node.js";
import { MosquittoBroker } from "../mqtt/mosquitto_broker.js";
import type { PublisherProcessConfig, PublisherProcessMessage } from "../mqtt/mocap_publisher_process.js";
import { Progress } from "./progress.js";

export const MOCAP_BENCH_BROKERS = ["embedded", "mosquitto"] as const;
export type MocapBenchBroker = (typeof MOCAP_BENCH_BROKERS)[number];

export interface MocapBenchOptions {
  broker: MocapBenchBroker;
  rate: number;
  bodies: number;
  joints: number;
  seconds: number;
  json: boolean;
  /**
   * Mosquitto only: stop the broker (SIGTERM: it saves its persistence database) this many
   * seconds into the publishing, keep it down for brokerDownMs, start it again on the same port
   * and directory. null/undefined = no restart.
   */
  restartBrokerAt?: number | null;
  /** How long the broker stays down in a restart (ms, default 1000). */
  brokerDownMs?: number;
}

export interface MocapBenchInternals {
  /** The publisher process's script (default: the compiled mocap_publisher_process.js next to this module's). */
  publisherEntry?: string;
  /** Progress lines on stderr (default true). */
  progress?: boolean;
}

const STREAM = "bench";

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** p50, p99, max, mean and count of latencies (ms). */
function latencySummary(ms: readonly number[]): { p50: number; p99: number; max: number; mean: number; n: number } {
  const sorted = Float64Array.from(ms).sort();
  const mean = ms.length === 0 ? NaN : ms.reduce((a, b) => a + b, 0) / ms.length;
  return { p50: round3(percentile(sorted, 50)), p99: round3(percentile(sorted, 99)), max: round3(sorted[sorted.length - 1] ?? NaN), mean: round3(mean), n: ms.length };
}

/**
 * Frames left out of latency_ms: the first second (first-use work in both processes: the
 * protobuf schema is built, code is compiled, sockets warm up), or the first 10% of a run
 * shorter than 10 s. latency_ms_all keeps every frame.
 */
function warmupFramesOf(o: MocapBenchOptions): number {
  return Math.floor(Math.min(1, o.seconds / 10) * o.rate);
}

/** utime + stime of a process from /proc (µs), or null where /proc is not readable. */
function procCpuUs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name, in clock ticks (100 Hz on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

/**
 * `spatial-reward mocap bench`: the ingest path under load. The publisher (BenchFrameSource:
 * `bodies` rigid bodies and a `joints`-joint skeleton at `rate` Hz, QoS 1) runs in a child
 * process; the broker is the embedded aedes (inside this process, as mocap_ingest runs it) or a
 * Mosquitto child on 127.0.0.1; mocap_ingest runs here on the in-process transport with every
 * output on (poses, TF, MocapFrame). The child is a separate process so that cpu_pct is the
 * ingest's alone (process.cpuUsage of this process over the measured wall time; it includes the
 * embedded broker when that is the broker, reported as such) and the publisher's encoding does
 * not compete with the ingest for one event loop, as it would not with a real mocap system.
 *
 * With restartBrokerAt (Mosquitto only), the broker is stopped mid-stream and started again
 * (persistence on: the ingest's session and the frames queued for it survive): `broker_restart`
 * reports how long it was down, the ingest's outage, and the proof that nothing was lost, by
 * frame number (every tick's number 0..ticks-1 that never came out of the ingest).
 *
 * Latency = the time a frame's MocapFrame message leaves the ingest (its delivery on the
 * transport) − the time the publisher called publish for it, both on CLOCK_MONOTONIC
 * (process.hrtime.bigint), which every process on the host shares.
 */
export async function run(o: MocapBenchOptions, internals: MocapBenchInternals = {}): Promise<number> {
  const progress = new Progress(1000, internals.progress ?? true);
  if (o.restartBrokerAt != null) {
    const downMs = o.brokerDownMs ?? 1000;
    const why = o.broker !== "mosquitto" ? "needs --broker mosquitto (the embedded broker lives in this process)"
      : !(o.restartBrokerAt > 0 && o.restartBrokerAt < o.seconds) ? `must be inside the run (0 < S < ${o.seconds}), got ${o.restartBrokerAt}`
      : !(Number.isFinite(downMs) && downMs >= 0 && downMs <= 600_000) ? `--broker-down-ms must be from 0 to 600000, got ${downMs}` : "";
    if (why !== "") {
      process.stderr.write(`mocap bench: --restart-broker-at ${why}\n`);
      return 2;
    }
  }
  let mosquitto: MosquittoBroker | null = null;
  if (o.broker === "mosquitto") {
    try {
      mosquitto = await MosquittoBroker.start();
    } catch (e) {
      process.stderr.write(`mocap bench: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const transport = new InprocTransport();
  transport.logSinks = [];
  const ingest = new MocapIngestNode(transport.createNode("mocap_ingest", {
    parameterOverrides: {
      broker: mosquitto ? mosquitto.url : "embedded", embedded_port: 0, diagnostics_period_ms: 0, client_id: "spatial_reward_mocap_bench_ingest",
    },
  }));
  const ticks = Math.round(o.seconds * o.rate);
  const outNs = new Array<bigint>(ticks).fill(-1n);
  let received = 0;
  let outOfRange = 0;
  const probe = transport.createNode("bench_probe");
  probe.createSubscription<M.spatial_reward_msgs__msg__MocapFrame>("spatial_reward_msgs/msg/MocapFrame", `mocap/${STREAM}/frame`, { ...QOS_DEFAULT, history: "keep_all" }, (m) => {
    const t = process.hrtime.bigint();
    const k = Number(m.frame_number);
    if (k >= 0 && k < ticks) {
      if (outNs[k] < 0n) received++;
      outNs[k] = t;
    } else outOfRange++;
  });
  let child: ReturnType<typeof fork> | null = null;
  try {
    await ingest.start();
    await ingest.subscribed();
    const entry = internals.publisherEntry ?? fileURLToPath(new URL("../mqtt/mocap_publisher_process.js", import.meta.url));
    const config: PublisherProcessConfig = {
      url: ingest.brokerUrl, rateHz: o.rate, bodies: o.bodies, joints: o.joints, seconds: o.seconds, streamId: STREAM, clientId: "spatial_reward_mocap_bench_publisher",
    };
    child = fork(entry, [JSON.stringify(config)], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    const c = child;
    let started: (() => void) | null = null;
    const startedP = new Promise<void>((resolve) => (started = resolve));
    const doneP = new Promise<Extract<PublisherProcessMessage, { type: "done" }>>((resolve, reject) => {
      c.on("message", (m: PublisherProcessMessage) => {
        if (m.type === "started") started?.();
        else if (m.type === "done") resolve(m);
        else reject(new Error(`publisher process: ${m.message}`));
      });
      c.once("exit", (code) => reject(new Error(`publisher process exited (code ${code}) before reporting`)));
    });
    doneP.catch(() => started?.());
    await startedP;
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const broker0 = procCpuUs(mosquitto?.pid);
    // CPU of broker processes that a restart ended (their /proc entry goes with them).
    let brokerCpuEndedUs: number | null = 0;
    const restart = o.restartBrokerAt != null && mosquitto !== null ? { atS: o.restartBrokerAt, downMs: o.brokerDownMs ?? 1000 } : null;
    const restartReport = { halted_at_s: NaN, down_ms: NaN, resumed: false, error: "" };
    let restartDone: Promise<void> = Promise.resolve();
    if (restart && mosquitto) {
      const m = mosquitto;
      restartDone = new Promise<void>((resolve) => setTimeout(resolve, restart.atS * 1000)).then(async () => {
        const before = procCpuUs(m.pid);
        brokerCpuEndedUs = before === null || broker0 === null ? null : before - broker0;
        const tDown = performance.now();
        restartReport.halted_at_s = (tDown - wall0) / 1000;
        progress.update(`mocap bench: stopping mosquitto at ${restartReport.halted_at_s.toFixed(1)} s for ${restart.downMs} ms`);
        await m.halt();
        await new Promise((r) => setTimeout(r, restart.downMs));
        await m.resume();
        restartReport.down_ms = performance.now() - tDown;
        restartReport.resumed = true;
      }).catch((e: unknown) => {
        restartReport.error = e instanceof Error ? e.message : String(e);
      });
    }
    const ticker = setInterval(() => {
      const s = (performance.now() - wall0) / 1000;
      progress.update(`mocap bench: ${Math.min(s, o.seconds).toFixed(0)}/${o.seconds} s, ${received}/${ticks} frames received`);
    }, 1000);
    let done: Extract<PublisherProcessMessage, { type: "done" }>;
    try {
      done = await doneP;
      await restartDone;
      // Frames acknowledged by the broker may still be on their way to the ingest (seconds of
      // them on a host busy enough to starve it): waited for while they keep coming, given up
      // after 10 s without one.
      let lastCount = received;
      let lastProgress = Date.now();
      while (received < done.stats.frames_sent && Date.now() - lastProgress < 10_000) {
        await new Promise((r) => setTimeout(r, 10));
        if (received !== lastCount) {
          lastCount = received;
          lastProgress = Date.now();
        }
      }
    } finally {
      clearInterval(ticker);
    }
    const wallMs = performance.now() - wall0;
    const cpu = process.cpuUsage(cpu0);
    const brokerNow = procCpuUs(mosquitto?.pid);
    // After a restart the running broker's whole CPU time counts (it started during the run).
    const broker1 = brokerNow === null || brokerCpuEndedUs === null ? null : restart ? brokerNow + brokerCpuEndedUs + (broker0 ?? 0) : brokerNow;
    progress.done();
    await ingest.close();

    const base = BigInt(done.publishBaseNs);
    const lat: number[] = [];
    const steady: number[] = [];
    const warmupFrames = warmupFramesOf(o);
    for (let k = 0; k < ticks; k++) {
      const off = done.publishOffsetsNs[k];
      if (off < 0 || outNs[k] < 0n) continue;
      const ms = Number(outNs[k] - (base + BigInt(off))) / 1e6;
      lat.push(ms);
      if (k >= warmupFrames) steady.push(ms);
    }
    const counters = ingest.streamCounters()[STREAM];
    const rejects: Record<string, number> = {};
    if (counters) {
      for (const k of MOCAP_COUNTER_KEYS) {
        if (k === "frames_received" || k === "frames_released" || counters[k] === 0) continue;
        rejects[k] = counters[k];
      }
    }
    for (const [k, v] of Object.entries(ingest.counters.snapshot())) if (k.startsWith("errors.") || k.startsWith("dropped.")) rejects[k] = v;
    const link = ingest.linkStatus();
    const clock = ingest.clockEstimates()[STREAM];
    const sent = done.stats.frames_sent;
    // The proof by frame numbers: every tick's frame number (0..ticks-1, whether or not the
    // publisher could send it) that never came out of the ingest.
    const missing: number[] = [];
    for (let k = 0; k < ticks; k++) if (outNs[k] < 0n) missing.push(k);
    const out = {
      broker: o.broker,
      broker_url: ingest.brokerUrl,
      publisher: "child process",
      rate_hz: o.rate,
      bodies: o.bodies,
      joints: o.joints,
      seconds: o.seconds,
      frames_sent: sent,
      frames_received: received,
      frames_lost: sent - received,
      latency_ms: latencySummary(steady),
      latency_warmup_s: round3(warmupFrames / o.rate),
      latency_ms_all: latencySummary(lat),
      cpu_pct: round3(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
      cpu_includes_broker: o.broker === "embedded",
      publisher_cpu_pct: round3(((done.cpuUserUs + done.cpuSystemUs) / 1000 / done.wallMs) * 100),
      broker_cpu_pct: broker0 !== null && broker1 !== null ? round3(((broker1 - broker0) / 1000 / wallMs) * 100) : null,
      wall_s: round3(wallMs / 1000),
      achieved_rate_hz: round3(sent / (done.wallMs / 1000)),
      payload_bytes_mean: sent > 0 ? Math.round(done.stats.bytes_sent / sent) : 0,
      publisher_late_ticks: done.stats.late_ticks,
      publisher_drained: done.drained,
      frames_out_of_range: outOfRange,
      rejects,
      mqtt: { disconnects: link.disconnects, outages: link.outages, outage_ms_total: link.outageMsTotal },
      ...(restart ? {
        broker_restart: {
          at_s: restart.atS,
          halted_at_s: round3(restartReport.halted_at_s),
          // Broker process gone: from SIGTERM to accepting connections again.
          broker_down_ms: Math.round(restartReport.down_ms),
          // The ingest's view: connection lost → CONNACK again (its reconnect backoff included).
          ingest_outage_ms: link.outageMsTotal,
          ingest_outages: link.outages,
          ingest_sessions_lost: link.sessionsLost,
          publisher_disconnects: done.stats.disconnects,
          publisher_dropped_backlog: done.stats.frames_dropped_backlog,
          publisher_send_failed: done.stats.frames_send_failed,
          frame_numbers_expected: ticks,
          frame_numbers_received: ticks - missing.length,
          frame_numbers_missing: missing.length,
          first_missing: missing.slice(0, 20),
          duplicates_dropped: counters?.frames_duplicate ?? 0,
          error: restartReport.error || null,
        },
      } : {}),
      clock_offset_ns: clock ? String(clock.offset_ns) : null,
      clock_residual_ns: clock ? Math.round(clock.residual_ns) : null,
    };
    if (o.json) console.log(JSON.stringify(out));
    else {
      console.log(`${o.bodies} bodies + ${o.joints} joints at ${o.rate} Hz for ${o.seconds} s through ${o.broker} (${out.payload_bytes_mean} B/frame)`);
      console.log(`frames: sent ${sent}, received ${received}, lost ${out.frames_lost}`);
      console.log(`latency publish → ingest output after ${out.latency_warmup_s} s: p50 ${out.latency_ms.p50} ms, p99 ${out.latency_ms.p99} ms, max ${out.latency_ms.max} ms ` +
        `(every frame: p50 ${out.latency_ms_all.p50} ms, p99 ${out.latency_ms_all.p99} ms)`);
      console.log(`cpu: ingest ${out.cpu_pct}%${out.cpu_includes_broker ? " (with the embedded broker)" : ""}, publisher ${out.publisher_cpu_pct}%` +
        `${out.broker_cpu_pct !== null ? `, mosquitto ${out.broker_cpu_pct}%` : ""} (100% = one core)`);
      if (Object.keys(rejects).length > 0) console.log(`rejects: ${JSON.stringify(rejects)}`);
      if (out.broker_restart) {
        const r = out.broker_restart;
        console.log(`broker restart at ${r.halted_at_s} s: mosquitto down ${r.broker_down_ms} ms, ingest outage ${r.ingest_outage_ms} ms ` +
          `(${r.ingest_outages} outage(s), sessions lost ${r.ingest_sessions_lost}); frame numbers received ${r.frame_numbers_received}/${r.frame_numbers_expected}` +
          `${r.frame_numbers_missing > 0 ? `, first missing ${r.first_missing.join(", ")}` : ""}`);
      }
    }
    if (out.frames_lost !== 0) process.stderr.write(`mocap bench: ${out.frames_lost} frame(s) sent were not received\n`);
    const restartFailed = restart !== null && (!restartReport.resumed || missing.length > 0);
    if (restartFailed) process.stderr.write(`mocap bench: broker restart: ${restartReport.error || `${missing.length} frame number(s) never came out of the ingest`}\n`);
    return out.frames_lost === 0 && !restartFailed ? 0 : 1;
  } finally {
    child?.kill();
    await ingest.close();
    await transport.shutdown();
    await mosquitto?.stop();
  }
}
