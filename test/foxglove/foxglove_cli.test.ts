import { spawn, spawnSync } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SceneUpdate } from "@foxglove/schemas";
import { describe, expect, it } from "vitest";
import { T } from "../../nodes/messages.js";
import { CdrCodec } from "../../src/msgs/cdr_codec.js";
import { TestClient, waitUntil } from "./foxglove_test_client.js";

/**
 * `--foxglove [PORT]` on the commands, as processes (`node dist/nodes/cli/main.js`, built by
 * `npm run build`): each prints the URL it listens on, serves the live topics to the protocol's
 * client library, and closes the server cleanly on SIGINT/SIGTERM (exit 0, the client told the
 * server is going away). Wrong values are refused before anything starts (exit 2).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const URL_LINE = /foxglove: listening on (ws:\/\/127\.0\.0\.1:\d+)/;

interface Proc {
  child: ReturnType<typeof spawn>;
  stderr: () => string;
  stdout: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"], cwd: root });
  let err = "";
  let out = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => err, stdout: () => out, exit };
}

async function urlOf(p: Proc): Promise<string> {
  expect(await waitUntil(() => URL_LINE.test(p.stderr()), 30_000), p.stderr()).toBe(true);
  return URL_LINE.exec(p.stderr())![1];
}

async function stop(p: Proc, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  p.child.kill(signal);
  const r = await Promise.race([p.exit, new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000))]);
  if (r === null) {
    p.child.kill("SIGKILL");
    throw new Error(`did not exit within 15 s of ${signal}:\n${p.stderr()}`);
  }
  return r;
}

function closeCode(client: TestClient): Promise<number> {
  return new Promise((resolve) => {
    if (client.closed) resolve(-1);
    client.ws.once("close", (code: number) => resolve(code));
  });
}

describe("--foxglove on the CLI", () => {
  it("launch: the tabletop graph's image, boxes and reward reach a Foxglove client; SIGINT closes the server and exits 0", async () => {
    const p = start(["launch", "launch/params/tabletop.yaml", "--duration", "0", "--foxglove", "0", "--json"]);
    try {
      const client = await TestClient.connect(await urlOf(p));
      const closed = closeCode(client);
      for (const t of ["/camera/color/image_raw", "/scene/objects/boxes", "/reward"]) client.subscribe(t);
      expect(await waitUntil(() => ["/camera/color/image_raw", "/scene/objects/boxes", "/reward"].every((t) => client.messages(t).length >= 2), 30_000), p.stderr()).toBe(true);
      const img = new CdrCodec(T.Image).decode(client.messages("/camera/color/image_raw")[0].data);
      expect({ w: img.width, h: img.height, encoding: img.encoding, n: img.data.length }).toEqual({ w: 640, h: 480, encoding: "rgb8", n: 640 * 480 * 3 });
      const update = JSON.parse(new TextDecoder().decode(client.messages("/scene/objects/boxes")[0].data)) as SceneUpdate;
      expect(update.entities.length).toBeGreaterThan(0);
      for (const e of update.entities) {
        expect(e.frame_id).toBe("spatial");
        const { position } = e.cubes[0].pose;
        expect([position.x, position.y, position.z, e.cubes[0].size.x].every(Number.isFinite)).toBe(true);
      }
      const reward = new CdrCodec(T.Reward).decode(client.messages("/reward")[0].data);
      expect(reward.spec).not.toBe("");
      expect(Number.isFinite(reward.reward)).toBe(true);
      const r = await stop(p, "SIGINT");
      expect({ code: r.code, signal: r.signal }, p.stderr()).toEqual({ code: 0, signal: null });
      // The server said it was going away (1001) rather than dropping the connection.
      expect(await closed).toBe(1001);
      const summary = JSON.parse(p.stdout().trim().split("\n").pop()!) as { task: string };
      // The spec the reward node derived from the simulator's task names the task's objects.
      const names = /^\w+\(([^,]+), ([^,]+)(?:, [\d.]+)?\)$/.exec(reward.spec);
      expect(names, reward.spec).not.toBeNull();
      expect(summary.task).toContain(names![1]);
      expect(summary.task).toContain(names![2]);
    } finally {
      p.child.kill("SIGKILL");
    }
  }, 90_000);

  it("sim: camera frames reach a Foxglove client; SIGTERM exits 0", async () => {
    const p = start(["sim", "--foxglove", "0", "--rate", "15"]);
    try {
      const client = await TestClient.connect(await urlOf(p));
      client.subscribe("/camera/aligned_depth_to_color/image_raw");
      client.subscribe("/sim/truth/boxes");
      expect(await waitUntil(() => client.messages("/camera/aligned_depth_to_color/image_raw").length >= 2 && client.messages("/sim/truth/boxes").length >= 2, 30_000), p.stderr()).toBe(true);
      const depth = new CdrCodec(T.Image).decode(client.messages("/camera/aligned_depth_to_color/image_raw")[0].data);
      expect({ w: depth.width, h: depth.height, encoding: depth.encoding }).toEqual({ w: 640, h: 480, encoding: "32FC1" });
      const truth = JSON.parse(new TextDecoder().decode(client.messages("/sim/truth/boxes")[0].data)) as SceneUpdate;
      expect(truth.entities.length).toBeGreaterThanOrEqual(3);
      const r = await stop(p, "SIGTERM");
      expect({ code: r.code, signal: r.signal }, p.stderr()).toEqual({ code: 0, signal: null });
    } finally {
      p.child.kill("SIGKILL");
    }
  }, 90_000);

  it("node: the bridge follows the node's namespace (__ns) and remaps", async () => {
    const p = start(["node", "spatial", "--foxglove", "0", "--ros-args", "-r", "__ns:=/cam1", "-r", "spatial:spatial/answer:=answers"]);
    try {
      const client = await TestClient.connect(await urlOf(p));
      const topics = [...client.channels.values()].map((c) => c.topic);
      expect(topics).toContain("/cam1/answers");
      expect(topics).toContain("/cam1/scene/objects/boxes");
      expect(topics).toContain("/tf");
      expect(topics).not.toContain("/cam1/spatial/answer");
      const r = await stop(p, "SIGTERM");
      expect({ code: r.code, signal: r.signal }, p.stderr()).toEqual({ code: 0, signal: null });
    } finally {
      p.child.kill("SIGKILL");
    }
  }, 60_000);

  it("demo: prints the URL on stderr, plays at camera speed for a viewer, and keeps --json's last stdout line", async () => {
    const p = start(["demo", "--frames", "60", "--foxglove", "0", "--json"]);
    try {
      const client = await TestClient.connect(await urlOf(p));
      client.subscribe("/reward");
      expect(await waitUntil(() => client.messages("/reward").length >= 3, 30_000), p.stderr()).toBe(true);
      const r = await Promise.race([p.exit, new Promise<null>((resolve) => setTimeout(() => resolve(null), 60_000))]);
      expect(r, p.stderr()).not.toBeNull();
      // Exit 0 on success, 1 when the short episode did not succeed: either way it ran to its end.
      expect([0, 1]).toContain(r!.code);
      const summary = JSON.parse(p.stdout().trim().split("\n").pop()!) as { frames: number; hz: number };
      expect(summary.frames).toBe(60);
      // Paced at 30 Hz while the server runs (flat out it renders faster, load permitting).
      expect(summary.hz).toBeLessThanOrEqual(31);
    } finally {
      p.child.kill("SIGKILL");
    }
  }, 90_000);

  it("a port in use is one line and exit 1; wrong values are refused before anything starts (exit 2)", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = spawnSync(process.execPath, [cli, "sim", "--foxglove", String(port)], { encoding: "utf8", timeout: 30_000 });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain(`cannot listen on ws://127.0.0.1:${port}: the port is in use`);
      expect(r.stderr.trim().split("\n").filter((l) => l.startsWith("spatial-reward"))).toHaveLength(1);
    } finally {
      blocker.close();
    }
    for (const [args, says] of [
      [["sim", "--foxglove", "65536"], "--foxglove must be an integer from 0 to 65535"],
      [["launch", "launch/params/tabletop.yaml", "--foxglove", "-1"], "--foxglove must be an integer"],
      [["node", "spatial", "--foxglove", "80a"], "--foxglove must be an integer"],
      [["demo", "--foxglove-host", "robot.local"], "--foxglove-host must be an IP address"],
      [["demo", "--foxglove-host", ""], "--foxglove-host must be an IP address"],
    ] as const) {
      const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 30_000, cwd: root });
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(says);
    }
  }, 90_000);
});
