import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import wsProtocol, { type IWebSocket, type MessageData } from "@foxglove/ws-protocol";
import { WebSocket } from "ws";
import { FoxgloveBridge } from "../nodes/foxglove/foxglove_bridge.js";
import { T } from "../nodes/messages.js";
import { cameraMessages } from "../nodes/sim_camera_node.js";
import type * as M from "../src/msgs/generated.js";
import { InprocTransport } from "../src/transport/inproc_transport.js";
import { QOS_CAMERA_INFO, QOS_SENSOR_DATA } from "../src/transport/qos.js";
import { fromNanoseconds } from "../src/time/ros_time.js";
import { RgbdSensor, teleopScenario, worldAt } from "../sim/index.js";
import { benchArgs } from "./bench_args.js";

/**
 * `node dist/bench/foxglove_bench.js [--seconds S] [--rounds R] [--json]`: the CPU the Foxglove
 * bridge costs per camera stream, measured side by side with the bridge off in one run.
 *
 * One camera as `spatial-reward sim` publishes it, 640x480 at 30 Hz: rgb8 (921,600 bytes),
 * aligned depth 32FC1 (1,228,800 bytes) and camera_info, on the in-process transport, from
 * simulator renders (with RealSense noise) made before the measurement and replayed, so the
 * publisher itself costs almost nothing. Each round measures three phases of `--seconds`
 * (default 8) in this process (user + system CPU over wall time, as % of one core):
 *  - off: no bridge at all;
 *  - idle: the bridge listening with one Foxglove client connected and subscribed to nothing
 *    (the bridge then subscribes to nothing on the transport);
 *  - client: the client subscribed to the rgb, depth and camera_info channels: every frame is
 *    CDR-encoded once and written to the client's WebSocket.
 * The client is FoxgloveClient from @foxglove/ws-protocol in a child process (so its decoding is
 * not charged to the node; its own CPU is reported beside). Phases alternate over `--rounds`
 * (default 3); the figures are medians over rounds, and bridge_cpu_pct = client − off of the
 * same round (median), bridge_ms_per_frame = that over 30 frames/s.
 */
const { FoxgloveClient } = wsProtocol;
const self = fileURLToPath(import.meta.url);
const TOPICS = ["/camera/color/image_raw", "/camera/aligned_depth_to_color/image_raw", "/camera/color/camera_info"];
const HZ = 30;

interface ClientReport { received: number; bytes: number; cpuMs: number }

/** Child mode: a Foxglove client subscribing to `topics`, reporting counts and its CPU when asked. */
async function clientMain(url: string, topics: string[]): Promise<void> {
  const ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
  const client = new FoxgloveClient({ ws: ws as unknown as IWebSocket });
  let received = 0;
  let bytes = 0;
  let cpu0 = process.cpuUsage();
  client.on("advertise", (channels) => {
    for (const c of channels) if (topics.includes(c.topic)) client.subscribe(c.id);
    process.send?.({ ready: true });
  });
  client.on("message", (m: MessageData) => {
    received++;
    bytes += m.data.byteLength;
  });
  client.on("error", () => {});
  process.on("message", (msg: { cmd: string }) => {
    if (msg.cmd === "reset") {
      received = 0;
      bytes = 0;
      cpu0 = process.cpuUsage();
      process.send?.({ reset: true });
    } else if (msg.cmd === "report") {
      const c = process.cpuUsage(cpu0);
      const report: ClientReport = { received, bytes, cpuMs: (c.user + c.system) / 1000 };
      process.send?.(report, () => process.exit(0));
    }
  });
}

function startClient(url: string, topics: string[]): Promise<ChildProcess> {
  const child = fork(self, ["--client", url, "--topics", topics.join(",")], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`the client exited (${code}) before connecting`)));
  });
}

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once("message", (m) => resolve(m as T));
    child.send({ cmd });
  });
}

/** Publishes the replayed frames at 30 Hz for `seconds`; returns this process's CPU % of one core and the frames sent. */
async function measure(publish: (i: number) => void, seconds: number): Promise<{ cpuPct: number; frames: number; lateMs: number }> {
  const periodMs = 1000 / HZ;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let frames = 0;
  let lateMs = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const due = t0 + frames * periodMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else lateMs = Math.max(lateMs, -wait);
    publish(frames++);
  }
  const wall = performance.now() - t0;
  const c = process.cpuUsage(cpu0);
  return { cpuPct: ((c.user + c.system) / 1000 / wall) * 100, frames, lateMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const round2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const { values } = benchArgs("foxglove_bench", "node dist/bench/foxglove_bench.js [--seconds S] [--rounds R] [--json]", {
    options: {
      seconds: { type: "string", default: "8" },
      rounds: { type: "string", default: "3" },
      json: { type: "boolean", default: false },
      client: { type: "string" },
      topics: { type: "string", default: "" },
    },
  });
  if (values.client !== undefined) return clientMain(values.client, values.topics.split(",").filter((t) => t !== ""));
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  if (!(seconds > 0) || !Number.isInteger(rounds) || rounds < 1) throw new Error("--seconds must be > 0 and --rounds a positive integer");

  // Frames rendered before anything is measured, then replayed with fresh stamps.
  const scenario = teleopScenario(11, 60);
  const sensor = new RgbdSensor({ noise: "realsense", seed: 11 });
  const rendered = [0, 20, 40].map((f) => cameraMessages(sensor.capture(worldAt(scenario.world, scenario.episode.poses[f]), scenario.camera, 0n).frame, "camera_color_optical_frame"));
  const transport = new InprocTransport();
  transport.logSinks = [];
  const cam = transport.createNode("camera");
  const rgb = cam.createPublisher<M.sensor_msgs__msg__Image>(T.Image, "camera/color/image_raw", QOS_SENSOR_DATA);
  const depth = cam.createPublisher<M.sensor_msgs__msg__Image>(T.Image, "camera/aligned_depth_to_color/image_raw", QOS_SENSOR_DATA);
  const info = cam.createPublisher<M.sensor_msgs__msg__CameraInfo>(T.CameraInfo, "camera/color/camera_info", QOS_CAMERA_INFO);
  const publish = (i: number) => {
    const m = rendered[i % rendered.length];
    const header = { stamp: fromNanoseconds(BigInt(Date.now()) * 1_000_000n), frame_id: m.rgb.header.frame_id };
    info.publish({ ...m.info, header });
    rgb.publish({ ...m.rgb, header });
    depth.publish({ ...m.depth, header });
  };
  const frameBytes = rendered[0].rgb.data.byteLength + rendered[0].depth.data.byteLength;

  const phases: { round: number; phase: string; cpu_pct: number; frames: number; late_ms_max: number; client?: ClientReport; dropped?: number }[] = [];
  // One untimed second first: JIT warm-up of the publisher and the bridge's encode path.
  {
    const b = await FoxgloveBridge.start(transport, { port: 0 });
    const c = await startClient(b.url, TOPICS);
    await measure(publish, 1);
    await ask<ClientReport>(c, "report");
    await b.close();
  }
  for (let r = 0; r < rounds; r++) {
    const off = await measure(publish, seconds);
    phases.push({ round: r, phase: "off", cpu_pct: off.cpuPct, frames: off.frames, late_ms_max: off.lateMs });
    const bridge = await FoxgloveBridge.start(transport, { port: 0 });
    for (const [phase, topics] of [["idle", []], ["client", TOPICS]] as const) {
      const client = await startClient(bridge.url, [...topics]);
      // Subscriptions settle before the clock starts.
      await new Promise((res) => setTimeout(res, 300));
      await ask<unknown>(client, "reset");
      const dropped0 = TOPICS.reduce((n, t) => n + bridge.counters.get(`dropped.${t}.slow_client`), 0);
      const m = await measure(publish, seconds);
      const report = await ask<ClientReport>(client, "report");
      const dropped = TOPICS.reduce((n, t) => n + bridge.counters.get(`dropped.${t}.slow_client`), 0) - dropped0;
      phases.push({ round: r, phase, cpu_pct: m.cpuPct, frames: m.frames, late_ms_max: m.lateMs, client: report, dropped });
    }
    await bridge.close();
  }
  await transport.shutdown();

  const of = (phase: string) => phases.filter((p) => p.phase === phase);
  const cost = (phase: string) => of(phase).map((p) => p.cpu_pct - of("off")[p.round].cpu_pct);
  const clientPhases = of("client");
  const sentFrames = clientPhases.reduce((n, p) => n + p.frames * 3, 0);
  const result = {
    bench: "foxglove",
    stream: { width: 640, height: 480, hz: HZ, channels: TOPICS, bytes_per_frame: frameBytes, depth_encoding: rendered[0].depth.encoding },
    seconds, rounds,
    cpu_pct_of_core: {
      off: round2(median(of("off").map((p) => p.cpu_pct))),
      idle: round2(median(of("idle").map((p) => p.cpu_pct))),
      client: round2(median(of("client").map((p) => p.cpu_pct))),
    },
    bridge_cpu_pct: round2(median(cost("client"))),
    bridge_idle_cpu_pct: round2(median(cost("idle"))),
    bridge_ms_per_frame: round2((median(cost("client")) / 100) * 1000 / HZ),
    client_cpu_pct: round2(median(clientPhases.map((p) => (p.client!.cpuMs / (seconds * 1000)) * 100))),
    delivered: { messages: clientPhases.reduce((n, p) => n + p.client!.received, 0), sent: sentFrames, dropped_slow_client: clientPhases.reduce((n, p) => n + (p.dropped ?? 0), 0) },
    mbytes_per_s: round2(median(clientPhases.map((p) => p.client!.bytes / seconds / 1e6))),
    phases: phases.map((p) => ({ ...p, cpu_pct: round2(p.cpu_pct), late_ms_max: round2(p.late_ms_max) })),
  };
  if (values.json) console.log(JSON.stringify(result));
  else console.log(JSON.stringify(result, null, 2));
}

main().catch((e: unknown) => {
  console.error(`foxglove bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
