import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { netnsAvailable, runInNetns } from "../../bench/netns.js";
import { DDS_AVAILABLE } from "../dds/dds_env.js";
import { runChild } from "../run_child.js";

/**
 * What `ros2 launch spatial_reward spatial_reward.launch.xml backend:=dds` starts: one process per
 * node (`spatial-reward node <name> --backend dds --ros-args -r __node:=… --params-file …`),
 * the simulator among them, talking over DDS. A plain Cyclone DDS program listens to /reward.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "dist", "nodes", "cli", "main.js");
const peer = join(root, "build", "peers", "cyclone_peer");
const params = join(root, "launch", "params", "tabletop.yaml");
const env = { CYCLONEDDS_URI: `file://${join(root, "test", "interop", "cyclone_lo.xml")}`, ROS_DOMAIN_ID: "0" };

describe.runIf(DDS_AVAILABLE && netnsAvailable() && existsSync(cli))("the node graph as separate processes over DDS", () => {
  // Async children: a build of a minute or more would block the test worker (see run_child.ts).
  beforeAll(async () => {
    const built = await runChild("bash", [join(root, "test", "interop", "build_peers.sh"), "cyclone"], { timeoutMs: 600_000 });
    if (built.code !== 0) throw new Error(`building the peers failed:\n${built.stderr}`);
  }, 600_000);

  it("sim_camera, perception, spatial and reward processes produce rewards a C program receives", async () => {
    const node = (name: string) => `node ${cli} node ${name} --backend dds --ros-args -r __node:=${name} --params-file ${params} -p rate_hz:=10.0 2>/tmp/sr_${name}.err &`;
    const script = `
cd ${root}
${node("perception")}
${node("spatial")}
${node("reward")}
sleep 2
${node("sim_camera")}
${peer} listen --topic reward --type reward --seconds 8 > /tmp/sr_listen.json
kill -TERM $(jobs -p); wait
cat /tmp/sr_listen.json
`;
    const r = await runInNetns(script, 60_000, env);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split("\n").pop()!) as { received: number; last: { spec: string; progress: number } | null };
    // 10 Hz for roughly 6 s once the simulator is up (rendering costs part of each period).
    expect(summary.received).toBeGreaterThan(20);
    expect(summary.last?.spec).toMatch(/\(/);
    expect(summary.last!.progress).toBeGreaterThanOrEqual(0);
  }, 90_000);
});
