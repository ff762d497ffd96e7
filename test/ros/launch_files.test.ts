import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT } from "../../src/transport/qos.js";
import { NODE_NAMES, closeGraph, launchGraph } from "../../nodes/graph_launcher.js";
import { EmbeddedBroker } from "../../nodes/mqtt/embedded_broker.js";
import { decodeMocapFrame, encodeMocapFrame, encodeRecorderControl } from "../../src/mocap/mocap_codec.js";
import { RecorderControl_Command } from "../../src/msgs/mocap_proto.js";
import { makeFrame, publishQos1, rawClient, waitFor } from "../mqtt/mqtt_fixtures.js";
import { readIndexed } from "../record/mcap_test_helpers.js";
import { T } from "../../nodes/messages.js";
import { readLaunchFile } from "./launch_description.js";
import { DEFAULT_MOCAP_EMITTER_OPTIONS } from "../../sim/mocap_emitter.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const launchDir = join(root, "launch");
const params = parse(readFileSync(join(launchDir, "params/tabletop.yaml"), "utf8")) as Record<string, unknown>;
const teleopParams = parse(readFileSync(join(launchDir, "params/teleop.yaml"), "utf8")) as Record<string, unknown>;
/** The tabletop graph: every node but the teleop ones (mocap ingest, recorder). */
const TABLETOP = ["sim_camera", "perception", "spatial", "reward", "backbone"];
const TELEOP = ["sim_camera", "mocap_ingest", "recorder", "perception", "spatial", "reward"];
const CAMERA_GRAPH = ["perception", "spatial", "reward"];
const CAMERA_REMAPS = [
  ["camera/color/image_raw", "color/image_raw"],
  ["camera/aligned_depth_to_color/image_raw", "aligned_depth_to_color/image_raw"],
  ["camera/color/camera_info", "color/camera_info"],
];

function executables(file: string): string[] {
  return readLaunchFile(join(launchDir, file)).nodes.flatMap((n) => n.executables).sort();
}

describe("launch files", () => {
  it("the parameter files configure exactly their graph's nodes, and every node has a parameter section somewhere", () => {
    expect(Object.keys(params).filter((k) => k !== "/**").sort()).toEqual([...TABLETOP].sort());
    expect(Object.keys(teleopParams).filter((k) => k !== "/**").sort()).toEqual([...TELEOP].sort());
    expect([...new Set([...TABLETOP, ...TELEOP])].sort()).toEqual([...NODE_NAMES].sort());
  });

  it("the tabletop and teleop launch files start every node of their graph from the spatial_reward package, never through npx", () => {
    for (const [file, graph] of [["spatial_reward.launch.py", TABLETOP], ["spatial_reward.launch.xml", TABLETOP], ["teleop.launch.py", TELEOP], ["teleop.launch.xml", TELEOP]] as const) {
      expect(executables(file), file).toEqual([...graph].sort());
      expect(readLaunchFile(join(launchDir, file)).nodes.every((n) => n.package === "spatial_reward"), file).toBe(true);
    }
    for (const file of ["spatial_reward.launch.py", "spatial_reward.launch.xml", "camera_graph.launch.py", "camera_graph.launch.xml", "teleop.launch.py", "teleop.launch.xml"]) {
      // Outside this checkout `npx spatial-reward` would fetch a registry package of that name.
      expect(readFileSync(join(launchDir, file), "utf8"), file).not.toMatch(/npx|ExecuteProcess|<executable/);
    }
  });

  it("the Python launch files use launch_ros Nodes with namespace, parameters file and --backend", () => {
    for (const file of ["spatial_reward.launch.py", "camera_graph.launch.py", "teleop.launch.py"]) {
      const d = readLaunchFile(join(launchDir, file));
      expect(d.imports).toContain("launch_ros.actions.Node");
      expect(Object.keys(d.args), file).toEqual(expect.arrayContaining(["backend", "namespace", "params_file", "log_level"]));
      // The backend defaults to $SPATIAL_REWARD_BACKEND, else rclnodejs: a sourced ROS 2 host.
      expect(d.args.backend).toMatch(/EnvironmentVariable\('SPATIAL_REWARD_BACKEND', default_value='rclnodejs'\)/);
      for (const n of d.nodes) expect(n.keys, file).toEqual(expect.arrayContaining(["arguments", "name", "namespace", "parameters", "package", "executable"]));
    }
    expect(readLaunchFile(join(launchDir, "spatial_reward.launch.py")).defaultStrings!.params_file).toEqual(["params", "tabletop.yaml"]);
    expect(readLaunchFile(join(launchDir, "camera_graph.launch.py")).defaultStrings!.params_file).toEqual(["params", "camera_graph.yaml"]);
    expect(readLaunchFile(join(launchDir, "teleop.launch.py")).defaultStrings!.params_file).toEqual(["params", "teleop.yaml"]);
  });

  it("the XML launch files pass --backend, the namespace and the parameter file to every node", () => {
    for (const file of ["spatial_reward.launch.xml", "camera_graph.launch.xml", "teleop.launch.xml"]) {
      const d = readLaunchFile(join(launchDir, file));
      expect(d.args.backend).toBe("$(env SPATIAL_REWARD_BACKEND rclnodejs)");
      expect(d.args.namespace).toBe("");
      for (const n of d.nodes) {
        expect(n.attrs!.name, file).toBe(n.executables[0]);
        expect(n.attrs!.args, file).toBe("--backend $(var backend)");
        expect(n.attrs!.namespace, file).toBe("$(var namespace)");
        expect(n.params, file).toContainEqual({ from: "$(var params_file)" });
      }
    }
    expect(readLaunchFile(join(launchDir, "spatial_reward.launch.xml")).args.params_file).toBe("$(find-pkg-share spatial_reward)/params/tabletop.yaml");
    expect(readLaunchFile(join(launchDir, "camera_graph.launch.xml")).args.params_file).toBe("$(find-pkg-share spatial_reward)/params/camera_graph.yaml");
    expect(readLaunchFile(join(launchDir, "teleop.launch.xml")).args.params_file).toBe("$(find-pkg-share spatial_reward)/params/teleop.yaml");
  });

  it("the teleop launch files start the simulated camera only with use_sim (default true)", () => {
    const py = readLaunchFile(join(launchDir, "teleop.launch.py"));
    expect(py.args.use_sim).toBe("'true'");
    expect(readFileSync(join(launchDir, "teleop.launch.py"), "utf8")).toMatch(/condition=IfCondition\(use_sim\) if name == "sim_camera" else None/);
    const xml = readLaunchFile(join(launchDir, "teleop.launch.xml"));
    expect(xml.args.use_sim).toBe("true");
    for (const n of xml.nodes) expect(n.attrs!.if, n.executables[0]).toBe(n.executables[0] === "sim_camera" ? "$(var use_sim)" : undefined);
  });

  it("the camera graph starts perception, spatial and reward with the camera inputs remapped under camera_namespace", () => {
    expect(executables("camera_graph.launch.py")).toEqual([...CAMERA_GRAPH].sort());
    expect(executables("camera_graph.launch.xml")).toEqual([...CAMERA_GRAPH].sort());
    const py = readLaunchFile(join(launchDir, "camera_graph.launch.py"));
    expect(py.args.camera_namespace).toBe("'/camera/camera'"); // realsense2_camera 4.51+ defaults
    expect(py.constants!.CAMERA_TOPICS).toEqual(CAMERA_REMAPS);
    const xml = readLaunchFile(join(launchDir, "camera_graph.launch.xml"));
    expect(xml.args.camera_namespace).toBe("/camera/camera");
    const perception = xml.nodes.find((n) => n.executables[0] === "perception")!;
    for (const [ours, theirs] of CAMERA_REMAPS) expect(perception.remaps).toContainEqual({ from: ours, to: `$(var camera_namespace)/${theirs}` });
    expect(perception.remaps).toContainEqual({ from: "camera/instances", to: "$(var masks_topic)" });
    expect(perception.remaps).toContainEqual({ from: "camera/detections", to: "$(var detections_topic)" });
    expect(xml.nodes.filter((n) => n !== perception).every((n) => n.remaps!.length === 0)).toBe(true);
  });

  it("`spatial-reward launch` starts the teleop graph in one process: MQTT control, mocap frames as sent, the simulator stream's ROS MocapFrame and the camera in one episode, finished by closeGraph", async () => {
    // The simulator's stream, whose ROS MocapFrame teleop.yaml records (all `export lerobot` has when the nodes run as separate processes).
    const stream = DEFAULT_MOCAP_EMITTER_OPTIONS.streamId;
    const broker = await EmbeddedBroker.start({ port: 0 });
    const out = mkdtempSync(join(tmpdir(), "sr-teleop-graph-"));
    const transport = new InprocTransport();
    transport.logSinks = [];
    try {
      // The file as shipped, pointed at a test broker and directory (it says 127.0.0.1:1883 and episodes/).
      const doc = structuredClone(teleopParams) as Record<string, { ros__parameters: Record<string, unknown> }>;
      doc.mocap_ingest.ros__parameters.broker = broker.url;
      doc.recorder.ros__parameters.output_dir = out;
      doc.recorder.ros__parameters.mqtt_control_broker = broker.url;
      doc.sim_camera.ros__parameters.rate_hz = 0.001; // frames come from step() below, not the timer
      const g = launchGraph(transport, doc);
      expect(Object.keys(g).sort()).toEqual(["mocapIngest", "perception", "recorder", "reward", "sim", "spatial"]);
      await g.mocapIngest!.subscribed();
      await g.recorder!.mqttControl!.subscribed();
      const raw = await rawClient(broker.url, "teleop-graph-test");
      await publishQos1(raw, "mocap/control", encodeRecorderControl({ command: RecorderControl_Command.START, task: "stack", operator: "ana", seed: 0n }));
      expect(await waitFor(() => g.recorder!.recording, 5000)).toBe(true);
      for (let n = 0; n < 24; n++) await publishQos1(raw, `mocap/${stream}/frame`, encodeMocapFrame(makeFrame(stream, BigInt(n), 1_000_000_000n + BigInt(n) * 4_166_667n)));
      // All received; the newest may still be held in the reorder window.
      expect(await waitFor(() => g.mocapIngest!.counters.get("mqtt.messages") === 24, 5000)).toBe(true);
      for (let i = 0; i < 3; i++) g.sim!.step();
      const path = g.recorder!.episodePath!;
      raw.end(true);
      // closeGraph flushes the ingest's reorder window into the episode, then finishes the file.
      await closeGraph(g);
      const { reader, messages } = await readIndexed(path);
      const count = (topic: string) => messages.filter((m) => reader.channelsById.get(m.channelId)!.topic === topic).length;
      expect(count("mocap/frames")).toBe(24);
      expect(count(`/mocap/${stream}/frame`)).toBe(24);
      const rosMocap = [...reader.channelsById.values()].find((c) => c.topic === `/mocap/${stream}/frame`)!;
      expect(reader.schemasById.get(rosMocap.schemaId)!.name).toBe("spatial_reward_msgs/msg/MocapFrame");
      expect(count("/tf")).toBe(24 + 3); // mocap → bodies per mocap frame, camera → spatial per camera frame
      expect(count("/camera/color/image_raw")).toBe(3);
      expect(count("/reward")).toBe(3);
      expect(count("/reward/spec")).toBe(1);
      expect(decodeMocapFrame(messages.find((m) => reader.channelsById.get(m.channelId)!.topic === "mocap/frames")!.data).frame_number).toBe(0n);
    } finally {
      await transport.shutdown();
      await broker.stop();
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  it("`spatial-reward launch` starts that graph without ROS and it produces rewards", async () => {
    const transport = new InprocTransport();
    const g = launchGraph(transport, params);
    let rewards = 0;
    transport.createNode("probe").createSubscription(T.Reward, "reward", QOS_DEFAULT, () => rewards++);
    for (let i = 0; i < 5; i++) g.sim!.step();
    expect(rewards).toBe(5);
    // The reward node follows the simulator's task when the file leaves reward_spec empty.
    expect(g.reward!.counters.get("specs_set")).toBe(1);
    expect(g.perception!.perception.counters.get("frames_out")).toBe(5);
    await transport.shutdown();
  }, 60_000);
});
