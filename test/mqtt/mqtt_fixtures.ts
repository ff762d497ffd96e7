import { connect, type MqttClient } from "mqtt";
import { Handedness, LengthUnit, UpAxis, type MocapFrame, type RigidBody } from "../../src/msgs/mocap_proto.js";
import type { MocapFrameSource } from "../../nodes/mqtt/mocap_publisher.js";

/**
 * A Y-up right-handed millimetre source (OptiTrack NatNet's convention) whose bodies are at
 * known REP-103 positions: REP-103 (x, y, z) m = (−z, −x, y) mm / 1000, so a body meant to be
 * at REP (X, Y, Z) is sent as (−1000·Y, 1000·Z, −1000·X). Frame n: frame_number n, device time
 * as given by the publisher. Bodies move slowly along REP-103 +x (1 mm per frame).
 */
export class YUpMillimetreSource implements MocapFrameSource {
  frameNumber = 0n;
  readonly sent: bigint[] = [];

  constructor(readonly streamId = "s1", readonly extraBodies = 0, readonly joints = 0) {}

  /** REP-103 metres of `name` in frame n (the truth the ingest must reproduce). */
  static truth(name: string, n: bigint): { x: number; y: number; z: number } {
    const dx = Number(n) * 0.001;
    if (name === "hand") return { x: 0.4 + dx, y: 0.1, z: 0.9 };
    if (name === "mug") return { x: 0.6 + dx, y: -0.2, z: 0.75 };
    const i = Number(name.slice("body_".length));
    return { x: 0.1 * (i % 10) + dx, y: 0.1 * Math.floor(i / 10), z: 1 };
  }

  static body(id: number, name: string, n: bigint): RigidBody {
    const p = YUpMillimetreSource.truth(name, n);
    // A 90° turn about REP-103 z is a turn about the source's y (up): q = (0, sin 45°, 0, cos 45°).
    return {
      id, name, position: { x: -1000 * p.y, y: 1000 * p.z, z: -1000 * p.x },
      orientation: { x: 0, y: Math.SQRT1_2, z: 0, w: Math.SQRT1_2 }, mean_marker_error: 0.5, tracked: true,
    };
  }

  next(deviceNs: bigint): MocapFrame {
    const n = this.frameNumber++;
    this.sent.push(n);
    return makeFrame(this.streamId, n, deviceNs, this.extraBodies, this.joints);
  }
}

export function makeFrame(streamId: string, n: bigint, deviceNs: bigint, extraBodies = 0, joints = 0): MocapFrame {
  const bodies = [YUpMillimetreSource.body(1, "hand", n), YUpMillimetreSource.body(2, "mug", n)];
  for (let i = 0; i < extraBodies; i++) bodies.push(YUpMillimetreSource.body(10 + i, `body_${i}`, n));
  return {
    stream_id: streamId,
    frame_number: n,
    device_timestamp_ns: deviceNs,
    system_latency_ms: 1.5,
    axes: { up_axis: UpAxis.Y_UP, handedness: Handedness.RIGHT_HANDED, unit: LengthUnit.MILLIMETERS },
    rigid_bodies: bodies,
    markers: [{ id: 1, position: { x: 10, y: 900, z: -400 }, residual: 0.2, occluded: false }],
    skeletons: joints === 0 ? [] : [{
      id: 1, name: "operator",
      joints: Array.from({ length: joints }, (_, j) => ({
        name: `joint_${j}`, parent: j - 1, position: { x: 0, y: 1000 + j, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 }, tracked: true,
      })),
    }],
  };
}

/** A raw MQTT client for hostile payloads (connected, QoS 1 publishes resolve at PUBACK). */
export async function rawClient(url: string, clientId: string): Promise<MqttClient> {
  const c = connect(url, { clientId, clean: true, reconnectPeriod: 0, protocolVersion: 4 });
  await new Promise<void>((resolve, reject) => {
    c.once("connect", () => resolve());
    c.once("error", reject);
  });
  return c;
}

export function publishQos1(c: MqttClient, topic: string, payload: Uint8Array | Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    c.publish(topic, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: 1 }, (err) => (err ? reject(err) : resolve()));
  });
}

/** Polls `cond` every 10 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** The project's seeded generator (src/random/mulberry32.ts), under the name these tests use. */
export { mulberry32 as seeded } from "../../src/random/mulberry32.js";
