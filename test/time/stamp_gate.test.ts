import { describe, expect, it } from "vitest";
import { StampGate } from "../../src/time/stamp_gate.js";

const S = 1_000_000_000n;
const PERIOD = 33_333_333n;

/** Feeds stamps through check + commit (as a consumer that processes every admitted stamp does). */
function run(g: StampGate, stamps: bigint[]): string[] {
  return stamps.map((s) => {
    const v = g.check(s);
    if (v === "accept" || v === "adopt") g.commit(s, v);
    return v;
  });
}

const seq = (t0: bigint, n: number) => Array.from({ length: n }, (_, i) => t0 + BigInt(i) * PERIOD);

describe("StampGate", () => {
  it("accepts in-order and equal stamps, rejects small steps back as out of order", () => {
    const g = new StampGate({ maxJumpNs: 5n * S, confirm: 3 });
    expect(run(g, [10n * S, 10n * S, 11n * S, 10n * S + 5n, 12n * S])).toEqual(["accept", "accept", "accept", "out_of_order", "accept"]);
  });

  it("a single outlier ahead costs exactly that stamp", () => {
    const g = new StampGate({ maxJumpNs: 5n * S, confirm: 3 });
    const s = seq(100n * S, 6);
    expect(run(g, [s[0], s[1], s[2] + 3600n * S, s[2], s[3], s[4]])).toEqual(["accept", "accept", "jump_ahead", "accept", "accept", "accept"]);
    expect(g.jumps).toBe(0);
  });

  it("a single outlier back costs exactly that stamp", () => {
    const g = new StampGate({ maxJumpNs: 5n * S, confirm: 3 });
    const s = seq(3700n * S, 5);
    expect(run(g, [s[0], s[1], s[2] - 3600n * S, s[2], s[3]])).toEqual(["accept", "accept", "jump_back", "accept", "accept"]);
  });

  it("a permanent jump back is adopted on the 3rd stamp of the new timeline", () => {
    const g = new StampGate({ maxJumpNs: 5n * S, confirm: 3 });
    const before = seq(500n * S, 4), after = seq(10n * S, 4);
    expect(run(g, [...before, ...after])).toEqual(["accept", "accept", "accept", "accept", "jump_back", "jump_back", "adopt", "accept"]);
    expect(g.jumps).toBe(1);
    expect(g.lastJump).toEqual({ from: before[3], to: after[2], direction: "back" });
    expect(g.lastStamp).toBe(after[3]);
  });

  it("a permanent jump ahead is adopted on the 3rd stamp; an interruption by the old timeline restarts the count", () => {
    const g = new StampGate({ maxJumpNs: 5n * S, confirm: 3 });
    const far = 9000n * S;
    expect(run(g, [S, far, 2n * S, far + PERIOD, far + 2n * PERIOD, far + 3n * PERIOD, far + 4n * PERIOD]))
      .toEqual(["accept", "jump_ahead", "accept", "jump_ahead", "jump_ahead", "adopt", "accept"]);
    expect(g.lastJump?.direction).toBe("ahead");
  });

  it("candidates must move forward together: scattered outliers are never adopted", () => {
    const g = new StampGate({ maxJumpNs: 5n * S, confirm: 3 });
    expect(run(g, [1000n * S, 9000n * S, 8000n * S, 7000n * S, 6000n * S])).toEqual(["accept", "jump_ahead", "jump_ahead", "jump_ahead", "jump_ahead"]);
  });

  it("an adopted stamp that is not committed (processing failed) is adopted again by the next one", () => {
    const g = new StampGate({ maxJumpNs: 5n * S, confirm: 2 });
    expect(g.check(S)).toBe("accept");
    g.commit(S, "accept");
    expect(g.check(100n * S)).toBe("jump_ahead");
    expect(g.check(101n * S)).toBe("adopt"); // not committed
    expect(g.check(102n * S)).toBe("adopt");
    g.commit(102n * S, "adopt");
    expect(g.check(103n * S)).toBe("accept");
  });

  it("reset() forgets the timeline", () => {
    const g = new StampGate({ maxJumpNs: 5n * S, confirm: 3 });
    run(g, [1000n * S]);
    g.reset();
    expect(g.lastStamp).toBeNull();
    expect(run(g, [S])).toEqual(["accept"]);
  });
});
