import { afterEach, describe, expect, it } from "vitest";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT } from "../../src/transport/qos.js";
import type * as M from "../../src/msgs/generated.js";
import { RewardNode } from "../../nodes/reward_node.js";
import { T, sceneToMsg } from "../../nodes/messages.js";

/**
 * The reward node publishes rewards of perceived scene graphs, so its success has the
 * hysteresis (RewardTrackerOptions.hysteresis defaults: on at once, off when the residual
 * passes the tolerance by more than 1 cm, or for 3 frames in a row).
 */

type Reward = M.spatial_reward_msgs__msg__Reward;
const SPEC = "near(red mug, blue bowl, 0.05)";

let transports: InprocTransport[] = [];
afterEach(async () => {
  for (const t of transports) await t.shutdown();
  transports = [];
});

function graph() {
  const transport = new InprocTransport();
  transports.push(transport);
  transport.logSinks = [];
  new RewardNode(transport.createNode("reward", { parameterOverrides: { diagnostics_period_ms: 0, reward_spec: SPEC } }));
  const probe = transport.createNode("probe");
  const rewards: Reward[] = [];
  probe.createSubscription<Reward>(T.Reward, "reward", QOS_DEFAULT, (m) => rewards.push(m));
  const scenes = probe.createPublisher<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects");
  // The bowl spans y −0.175…−0.025, the mug y ± 0.04: their gap is y − 0.015 (mug on the
  // left of it), and near() holds up to a gap of 5 cm (y ≤ 0.065).
  let sec = 0;
  const scene = (mugY: number) => scenes.publish(sceneToMsg({
    stamp: BigInt(++sec) * 1_000_000_000n,
    supportZ: 0,
    objects: [
      { id: "mug#1", kind: "mug", color: "red", center: { x: 1, y: mugY, z: 0.05 }, size: { x: 0.08, y: 0.08, z: 0.1 }, confidence: 1, numPoints: 100 },
      { id: "bowl#1", kind: "bowl", color: "blue", center: { x: 1, y: -0.1, z: 0.04 }, size: { x: 0.15, y: 0.15, z: 0.08 }, confidence: 1, numPoints: 100 },
    ],
  }, "spatial"));
  return { rewards, scene };
}

describe("reward node: success with hysteresis", () => {
  it("a one- or two-frame excursion of a few millimetres past the goal does not flip success; a real departure or three frames do", () => {
    const g = graph();
    // Approaching, at the goal, a 5 mm excursion for two frames (a box disturbed), back.
    for (const y of [0.3, 0.1, 0.06, 0.065, 0.07, 0.07, 0.06]) g.scene(y);
    const successes = () => g.rewards.map((r) => r.success);
    expect(successes()).toEqual([false, false, true, true, true, true, true]);
    // Progress stays 1 exactly while success holds through the excursion.
    expect(g.rewards.slice(2).map((r) => r.progress)).toEqual([1, 1, 1, 1, 1]);
    // Three frames in a row past the tolerance: off on the third.
    for (let k = 0; k < 3; k++) g.scene(0.07);
    expect(successes().slice(-3)).toEqual([true, true, false]);
    // Back at the goal, then a real departure of 3 cm: off at once.
    g.scene(0.06);
    g.scene(0.095);
    expect(successes().slice(-2)).toEqual([true, false]);
    // The residual itself is reported as it is (only success and progress hold).
    expect(g.rewards[g.rewards.length - 1].residual).toBeCloseTo(0.03, 9);
    expect(g.rewards[4].residual).toBeCloseTo(0.005, 9);
  });
});
