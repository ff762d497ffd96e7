import { describe, expect, it } from "vitest";
import { ControlFreshness, STALE_REASONS } from "../../src/mocap/control_freshness.js";
import { InvalidInputError } from "../../src/errors.js";
import { seeded } from "../mqtt/mqtt_fixtures.js";

const NOW = 1_767_225_600_000_000_000n;
const MS = 1_000_000n;
const live = { retained: false, replay: false };
const cmd = (issued: bigint, sequence = 0n, sender = "") => ({ issued_at_ns: issued, sequence, sender });

describe("ControlFreshness", () => {
  it("refuses a retained delivery, whatever its stamp", () => {
    const f = new ControlFreshness();
    expect(f.check(cmd(NOW), { retained: true, replay: false }, NOW)).toMatchObject({ ok: false, reason: "retained" });
    expect(f.check(cmd(0n), { retained: true, replay: false }, NOW)).toMatchObject({ ok: false, reason: "retained" });
  });

  it("takes a stamped command inside the window, live or queued; refuses one older or further in the future", () => {
    const f = new ControlFreshness({ maxAgeMs: 10_000 });
    expect(f.check(cmd(NOW - 9_999n * MS), live, NOW)).toEqual({ ok: true, unstamped: false });
    expect(f.check(cmd(NOW - 10_000n * MS), { retained: false, replay: true }, NOW)).toEqual({ ok: true, unstamped: false });
    expect(f.check(cmd(NOW - 10_001n * MS), live, NOW)).toMatchObject({ ok: false, reason: "too_old" });
    expect(f.check(cmd(NOW - 3_600_000n * MS), { retained: false, replay: true }, NOW)).toMatchObject({ ok: false, reason: "too_old", message: expect.stringMatching(/3600 s ago/) });
    expect(f.check(cmd(NOW + 10_000n * MS), live, NOW)).toEqual({ ok: true, unstamped: false });
    expect(f.check(cmd(NOW + 10_001n * MS), live, NOW)).toMatchObject({ ok: false, reason: "from_future" });
    expect(f.check(cmd(2n ** 64n - 1n), live, NOW)).toMatchObject({ ok: false, reason: "from_future" });
    expect(f.check(cmd(1n), live, NOW)).toMatchObject({ ok: false, reason: "too_old" });
  });

  it("an unstamped command: accepted live (marked), refused in a replay, refused always with requireStamp", () => {
    const f = new ControlFreshness();
    expect(f.check(cmd(0n), live, NOW)).toEqual({ ok: true, unstamped: true });
    expect(f.check(cmd(0n), { retained: false, replay: true }, NOW)).toMatchObject({ ok: false, reason: "queued_unstamped" });
    const strict = new ControlFreshness({ requireStamp: true });
    expect(strict.check(cmd(0n), live, NOW)).toMatchObject({ ok: false, reason: "unstamped" });
    expect(strict.check(cmd(NOW), live, NOW)).toEqual({ ok: true, unstamped: false });
  });

  it("sequences must rise per sender; a refused command does not move the sender's sequence", () => {
    const f = new ControlFreshness();
    expect(f.check(cmd(NOW, 5n, "a"), live, NOW).ok).toBe(true);
    expect(f.check(cmd(NOW, 5n, "a"), live, NOW)).toMatchObject({ ok: false, reason: "old_sequence" });
    expect(f.check(cmd(NOW, 4n, "a"), live, NOW)).toMatchObject({ ok: false, reason: "old_sequence" });
    expect(f.check(cmd(NOW, 1n, "b"), live, NOW).ok).toBe(true); // another sender counts on its own
    expect(f.check(cmd(NOW - 60_000n * MS, 9n, "a"), live, NOW)).toMatchObject({ ok: false, reason: "too_old" });
    expect(f.check(cmd(NOW, 6n, "a"), live, NOW).ok).toBe(true); // 9 was refused, so 6 is still new
    expect(f.check(cmd(NOW, 0n, "a"), live, NOW).ok).toBe(true); // no sequence: not compared
    expect(f.check(cmd(NOW, 2n ** 64n - 1n, "a"), live, NOW).ok).toBe(true);
    expect(f.check(cmd(NOW, 2n ** 64n - 1n, "a"), live, NOW)).toMatchObject({ ok: false, reason: "old_sequence" });
  });

  it("remembers at most maxSenders senders, forgetting the least recently seen", () => {
    const f = new ControlFreshness({ maxSenders: 3 });
    for (const s of ["a", "b", "c"]) expect(f.check(cmd(NOW, 10n, s), live, NOW).ok).toBe(true);
    expect(f.check(cmd(NOW, 11n, "a"), live, NOW).ok).toBe(true); // a is now the most recent
    expect(f.check(cmd(NOW, 10n, "d"), live, NOW).ok).toBe(true); // b is forgotten
    expect(f.check(cmd(NOW, 10n, "b"), live, NOW).ok).toBe(true);
    expect(f.check(cmd(NOW, 11n, "a"), live, NOW)).toMatchObject({ ok: false, reason: "old_sequence" });
    // A flood of one-off senders cannot grow it: memory stays at maxSenders entries.
    for (let i = 0; i < 10_000; i++) f.check(cmd(NOW, 1n, `flood-${i}`), live, NOW);
    expect((f as unknown as { lastSequence: Map<string, bigint> }).lastSequence.size).toBe(3);
  });

  it("hostile fields: a 1 MB sender name, non-bigint stamps and sequences (from a bad caller) never throw", () => {
    const f = new ControlFreshness();
    const long = "x".repeat(1 << 20);
    expect(f.check(cmd(NOW, 3n, long), live, NOW).ok).toBe(true);
    expect(f.check(cmd(NOW, 3n, long), live, NOW)).toMatchObject({ ok: false, reason: "old_sequence" });
    expect((f as unknown as { lastSequence: Map<string, bigint> }).lastSequence.keys().next().value!.length).toBe(256);
    const odd = { issued_at_ns: Number.NaN, sequence: "7", sender: 42 } as unknown as ReturnType<typeof cmd>;
    expect(f.check(odd, live, NOW)).toEqual({ ok: true, unstamped: true });
    const rnd = seeded(99);
    for (let i = 0; i < 2000; i++) {
      const c = cmd(BigInt(Math.floor(rnd() * 2 ** 52)) * BigInt(Math.floor(rnd() * 2 ** 12)), BigInt(Math.floor(rnd() * 8)), String(Math.floor(rnd() * 4)));
      const v = f.check(c, { retained: rnd() < 0.1, replay: rnd() < 0.3 }, NOW);
      if (!v.ok) expect(STALE_REASONS).toContain(v.reason);
    }
  });

  it("refuses bad options", () => {
    for (const o of [{ maxAgeMs: 0 }, { maxAgeMs: 1.5 }, { maxAgeMs: NaN }, { maxSenders: 0 }, { requireStamp: "yes" as unknown as boolean }]) {
      expect(() => new ControlFreshness(o)).toThrow(InvalidInputError);
    }
  });
});
