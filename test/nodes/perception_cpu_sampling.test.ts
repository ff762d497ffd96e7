import { describe, expect, it, vi } from "vitest";

// The thread clock as a fake that advances 1 ms per reading and counts its readings: a reading
// costs 30-34 us on this VM, so the node reads it on one frame in CPU_SAMPLE_EVERY only.
const clock = vi.hoisted(() => ({ readings: 0 }));
vi.mock("../../nodes/thread_cpu_clock.js", () => ({
  threadCpuMs: () => ++clock.readings,
  threadCpuClockKind: () => "thread" as const,
}));

const { InprocTransport } = await import("../../src/transport/inproc_transport.js");
const { CPU_SAMPLE_EVERY, PerceptionNode } = await import("../../nodes/perception_node.js");
const { SimCameraNode } = await import("../../nodes/sim_camera_node.js");
const { RgbdSensor, teleopScenario, worldAt } = await import("../../sim/index.js");

describe("perception node: CPU of the perception stage, sampled", () => {
  it("clocks the first frame and then one in CPU_SAMPLE_EVERY, each reading standing for that many frames", async () => {
    const frames = 2 * CPU_SAMPLE_EVERY + 1;
    const scenario = teleopScenario(7, frames, { width: 160, height: 120 });
    const transport = new InprocTransport();
    const perception = new PerceptionNode(transport.createNode("perception", { parameterOverrides: { warmup_frames: 0 } }));
    const sim = new SimCameraNode(transport.createNode("sim_camera"));
    const sensor = new RgbdSensor({ noise: "none", seed: 7 });
    const before = clock.readings;
    for (let f = 0; f < frames; f++) {
      const cap = sensor.capture(worldAt(scenario.world, scenario.episode.poses[f]), scenario.camera, 1_000_000_000n + BigInt(f) * 33_333_333n);
      sim.publish(cap.frame, cap.truth);
      // Frames 0, 16 and 32 are clocked: two readings each, 1 ms apart on the fake clock.
      const clocked = Math.floor(f / CPU_SAMPLE_EVERY) + 1;
      expect(clock.readings - before).toBe(2 * clocked);
      expect(perception.perception.counters.get("cpu_ms.perception")).toBe(clocked * CPU_SAMPLE_EVERY);
    }
    expect(perception.perception.counters.get("frames_out")).toBe(frames);
    await transport.shutdown();
  });
});
