import { BenchFrameSource } from "./bench_frame_source.js";
import { MocapPublisher, type MocapPublisherStats } from "./mocap_publisher.js";

/**
 * The publisher half of `mocap bench`, run as a child process (spawned with an IPC channel):
 * argv[2] is a JSON PublisherProcessConfig. It connects, tells the parent "started", publishes
 * for `seconds` at `rateHz`, waits for every frame to be acknowledged, and sends "done" with its
 * stats, the CLOCK_MONOTONIC time of each frame's publish call (process.hrtime.bigint, the same
 * clock in every process on the host: the parent subtracts it from the time the frame left the
 * ingest) and its own CPU time. It exits when done or when the parent goes away.
 */
export interface PublisherProcessConfig {
  url: string;
  rateHz: number;
  bodies: number;
  joints: number;
  seconds: number;
  streamId: string;
  clientId: string;
}

export type PublisherProcessMessage =
  | { type: "started"; monotonicNs: string }
  | {
    type: "done";
    stats: MocapPublisherStats;
    drained: boolean;
    /** Publish time of frame k = base + offsets[k] (ns); −1 where frame k was not published. */
    publishBaseNs: string;
    publishOffsetsNs: number[];
    cpuUserUs: number;
    cpuSystemUs: number;
    wallMs: number;
    lastError: string;
  }
  | { type: "error"; message: string };

function send(m: PublisherProcessMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(m, () => resolve());
  });
}

async function main(): Promise<void> {
  const c = JSON.parse(process.argv[2] ?? "{}") as PublisherProcessConfig;
  process.on("disconnect", () => process.exit(0));
  const ticks = Math.round(c.seconds * c.rateHz);
  const source = new BenchFrameSource(c.streamId, c.bodies, c.joints);
  const offsets = new Array<number>(ticks).fill(-1);
  let base = -1n;
  const pub = new MocapPublisher({
    url: c.url, source, rateHz: c.rateHz, maxTicks: ticks, clientId: c.clientId,
    onPublished: (frame, ns) => {
      if (base < 0n) base = ns;
      const k = Number(frame.frame_number);
      if (k < offsets.length) offsets[k] = Number(ns - base);
    },
  });
  await pub.waitConnected();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await send({ type: "started", monotonicNs: String(process.hrtime.bigint()) });
  pub.start();
  await pub.finished();
  const drained = await pub.drain(30_000);
  const cpu = process.cpuUsage(cpu0);
  await send({
    type: "done", stats: { ...pub.stats }, drained, publishBaseNs: String(base), publishOffsetsNs: offsets,
    cpuUserUs: cpu.user, cpuSystemUs: cpu.system, wallMs: performance.now() - wall0, lastError: pub.lastError,
  });
  await pub.close(true);
  process.exit(0);
}

main().catch(async (e: unknown) => {
  await send({ type: "error", message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
