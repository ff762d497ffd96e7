import { connect } from "mqtt";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors.js";
import { applyBackoff, ReconnectBackoff } from "../../nodes/mqtt/reconnect_backoff.js";
import { freeLoopbackPort } from "../../nodes/mqtt/mosquitto_broker.js";
import { seeded } from "./mqtt_fixtures.js";

describe("ReconnectBackoff", () => {
  it("doubles from the minimum up to the bound, without jitter", () => {
    const b = new ReconnectBackoff({ minMs: 100, maxMs: 1000, factor: 2, jitter: 0 });
    expect(Array.from({ length: 8 }, () => b.next())).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
    expect(b.attempts).toBe(8);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it("jitters each delay within [(1 − jitter) · base, base] and never past the bound", () => {
    const b = new ReconnectBackoff({ minMs: 50, maxMs: 5000, factor: 3, jitter: 0.5 }, seeded(7));
    const delays: number[] = [];
    for (let k = 0; k < 2000; k++) {
      if (k % 20 === 0) b.reset();
      const base = Math.min(5000, 50 * 3 ** (k % 20));
      const d = b.next();
      delays.push(d);
      expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.5));
      expect(d).toBeLessThanOrEqual(base);
    }
    // The jitter is real: delays at one step are not all equal.
    const atStep3 = delays.filter((_, k) => k % 20 === 3);
    expect(new Set(atStep3).size).toBeGreaterThan(50);
  });

  it("stays bounded after very many attempts (no overflow to Infinity or NaN)", () => {
    const b = new ReconnectBackoff({ minMs: 1, maxMs: 30_000, factor: 100, jitter: 0 });
    for (let k = 0; k < 10_000; k++) b.next();
    expect(b.next()).toBe(30_000);
  });

  it("refuses bad options", () => {
    for (const o of [{ minMs: 0 }, { minMs: 100, maxMs: 50 }, { factor: 1 }, { factor: NaN }, { jitter: -0.1 }, { jitter: 2 }, { maxMs: Infinity }]) {
      expect(() => new ReconnectBackoff(o)).toThrow(InvalidInputError);
    }
  });
});

describe("applyBackoff on a real mqtt.js client", () => {
  // Timers fire late on a loaded host (the first three gaps took 371 ms once, 140 ms due): the
  // upper bounds stay as they are, a late run is retried.
  it("spaces reconnect attempts to a closed port by the growing, bounded delays", { retry: 2 }, async () => {
    const port = await freeLoopbackPort(); // nothing listens there
    const client = connect(`mqtt://127.0.0.1:${port}`, { manualConnect: true, reconnectPeriod: 1000, connectTimeout: 2000 });
    client.on("error", () => {});
    const backoff = new ReconnectBackoff({ minMs: 20, maxMs: 160, factor: 2, jitter: 0 });
    const scheduled: number[] = [];
    const attempts: number[] = [];
    applyBackoff(client, backoff, (d) => scheduled.push(d));
    client.on("reconnect", () => attempts.push(performance.now()));
    const t0 = performance.now();
    client.connect();
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (attempts.length >= 7) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    client.end(true);
    expect(scheduled.slice(0, 7)).toEqual([20, 40, 80, 160, 160, 160, 160]);
    // The time between attempts follows the schedule (a connect to a closed loopback port fails
    // in well under a millisecond; timers may fire late on a loaded machine, never early).
    const gaps = attempts.slice(0, 7).map((t, i) => t - (i === 0 ? t0 : attempts[i - 1]));
    for (let i = 0; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(scheduled[i] - 2);
    // ...and the short ones are short: the first three (20 + 40 + 80 ms) take far less than three
    // of the bound (480 ms) or of mqtt.js's fixed period configured above (3000 ms).
    expect(gaps[0] + gaps[1] + gaps[2]).toBeLessThan(350);
    // Bounded: the last gaps are the bound, not still doubling (generous slack for a loaded host).
    expect(gaps[6]).toBeLessThan(160 * 2 + 100);
  });

  it("starts again from the minimum after a successful connection", async () => {
    const { EmbeddedBroker } = await import("../../nodes/mqtt/embedded_broker.js");
    const port = await freeLoopbackPort();
    const client = connect(`mqtt://127.0.0.1:${port}`, { manualConnect: true, connectTimeout: 2000, clientId: "backoff-reset" });
    client.on("error", () => {});
    const backoff = new ReconnectBackoff({ minMs: 10, maxMs: 80, factor: 2, jitter: 0 });
    const scheduled: number[] = [];
    applyBackoff(client, backoff, (d) => scheduled.push(d));
    client.connect();
    while (scheduled.length < 5) await new Promise((r) => setTimeout(r, 5));
    const broker = await EmbeddedBroker.start({ port });
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    expect(backoff.attempts).toBe(0);
    const before = scheduled.length;
    await broker.stop();
    while (scheduled.length < before + 2) await new Promise((r) => setTimeout(r, 5));
    client.end(true);
    expect(scheduled.slice(0, 5)).toEqual([10, 20, 40, 80, 80]);
    expect(scheduled.slice(before, before + 2)).toEqual([10, 20]);
  });
});
