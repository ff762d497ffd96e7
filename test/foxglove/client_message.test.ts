import { describe, expect, it } from "vitest";
import {
  clientRequestText, MAX_CLIENT_ENTRIES, MAX_CLIENT_MESSAGE_BYTES, parseClientBinary, parseClientText, type ClientRequest,
} from "../../nodes/foxglove/client_message.js";
import { isSpatialRewardError, type SpatialRewardError } from "../../src/errors.js";
import { mulberry32 } from "../../src/random/mulberry32.js";

/** Client → server messages of the Foxglove protocol, checked before the protocol library sees them. */

function refusal(f: () => unknown): SpatialRewardError {
  try {
    f();
  } catch (e) {
    if (isSpatialRewardError(e)) return e;
    throw new Error(`threw an untyped ${String(e)}`);
  }
  throw new Error("accepted");
}

describe("parseClientText", () => {
  it("accepts subscribe and unsubscribe and gives the library their canonical text only", () => {
    const sub = parseClientText('{"op":"subscribe","subscriptions":[{"id":0,"channelId":3},{"id":4294967295,"channelId":1}],"extra":{"x":1}}');
    expect(sub).toEqual({ op: "subscribe", subscriptions: [{ id: 0, channelId: 3 }, { id: 4294967295, channelId: 1 }] });
    expect(clientRequestText(sub as Exclude<ClientRequest, { op: "unsupported" }>)).toBe('{"op":"subscribe","subscriptions":[{"id":0,"channelId":3},{"id":4294967295,"channelId":1}]}');
    const unsub = parseClientText('{"op":"unsubscribe","subscriptionIds":[7]}');
    expect(unsub).toEqual({ op: "unsubscribe", subscriptionIds: [7] });
    expect(clientRequestText(unsub as Exclude<ClientRequest, { op: "unsupported" }>)).toBe('{"op":"unsubscribe","subscriptionIds":[7]}');
  });

  it("recognises the protocol's other operations as unsupported (this server declares no capability)", () => {
    for (const op of ["advertise", "unadvertise", "getParameters", "setParameters", "subscribeParameterUpdates", "unsubscribeParameterUpdates", "subscribeConnectionGraph", "unsubscribeConnectionGraph", "fetchAsset"]) {
      expect(parseClientText(JSON.stringify({ op, channels: [{ id: 1, topic: "/cmd_vel" }] }))).toEqual({ op: "unsupported", what: op });
    }
  });

  it("refuses malformed messages with a typed bad_message naming the fault", () => {
    const cases: [string, RegExp][] = [
      ["", /not JSON/],
      ["{", /not JSON/],
      ["\u0000\u0001garbage", /not JSON/],
      ["null", /not a JSON object/],
      ["[1,2]", /not a JSON object/],
      ['"subscribe"', /not a JSON object/],
      ["{}", /"op" must be a string/],
      ['{"op":1}', /"op" must be a string/],
      ['{"op":"__proto__"}', /unknown op/],
      ['{"op":"constructor"}', /unknown op/],
      ['{"op":"publish"}', /unknown op/],
      ['{"op":"subscribe"}', /subscriptions must be an array/],
      ['{"op":"subscribe","subscriptions":{}}', /must be an array/],
      ['{"op":"subscribe","subscriptions":[]}', /is empty/],
      ['{"op":"subscribe","subscriptions":[null]}', /\[0\] must be an object/],
      ['{"op":"subscribe","subscriptions":[[1,2]]}', /\[0\] must be an object/],
      ['{"op":"subscribe","subscriptions":[{"id":1}]}', /channelId must be an integer/],
      ['{"op":"subscribe","subscriptions":[{"id":"1","channelId":1}]}', /id must be an integer/],
      ['{"op":"subscribe","subscriptions":[{"id":1.5,"channelId":1}]}', /id must be an integer/],
      ['{"op":"subscribe","subscriptions":[{"id":-1,"channelId":1}]}', /id must be an integer/],
      ['{"op":"subscribe","subscriptions":[{"id":4294967296,"channelId":1}]}', /id must be an integer/],
      ['{"op":"subscribe","subscriptions":[{"id":1,"channelId":1e400}]}', /channelId must be an integer/],
      ['{"op":"subscribe","subscriptions":[{"id":1,"channelId":{"valueOf":1}}]}', /channelId must be an integer/],
      ['{"op":"unsubscribe","subscriptionIds":[true]}', /subscriptionIds\[0\] must be an integer/],
      ['{"op":"unsubscribe","subscriptionIds":"1"}', /must be an array/],
    ];
    for (const [text, why] of cases) {
      const e = refusal(() => parseClientText(text));
      expect(e.code, text).toBe("bad_message");
      expect(e.message, text).toMatch(why);
      expect(e.message.length).toBeLessThan(300);
    }
  });

  it("bounds entries per message and message size; deep nesting is refused without recursion", () => {
    const many = JSON.stringify({ op: "unsubscribe", subscriptionIds: Array.from({ length: MAX_CLIENT_ENTRIES + 1 }, (_, i) => i) });
    expect(refusal(() => parseClientText(many)).message).toMatch(/at most 256/);
    const big = JSON.stringify({ op: "subscribe", pad: "x".repeat(MAX_CLIENT_MESSAGE_BYTES) });
    expect(refusal(() => parseClientText(big)).code).toBe("payload_too_large");
    const deep = `${"[".repeat(30_000)}${"]".repeat(30_000)}`;
    expect(refusal(() => parseClientText(deep)).code).toBe("bad_message");
    const deepInside = `{"op":"subscribe","subscriptions":[${"{\"a\":".repeat(5000)}1${"}".repeat(5000)}]}`;
    expect(refusal(() => parseClientText(deepInside)).message).toMatch(/id must be an integer/);
  });

  it("fuzz: 20000 random and mutated messages are either a valid request or a typed refusal", () => {
    const rand = mulberry32(12);
    const seeds = [
      '{"op":"subscribe","subscriptions":[{"id":1,"channelId":2}]}',
      '{"op":"unsubscribe","subscriptionIds":[1,2,3]}',
      '{"op":"advertise","channels":[]}',
    ];
    const alphabet = '{}[]":,0123456789-.eE truefalsnopsubcriIdhanlU\\u\u0000\uffff\ud800';
    let accepted = 0;
    // Plain checks in the loop (20000 expect() calls would dominate the run), failures collected.
    const failures: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let text: string;
      if (i % 3 === 0) {
        text = Array.from({ length: Math.floor(rand() * 80) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
      } else {
        const chars = [...seeds[i % seeds.length]];
        for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++) {
          const at = Math.floor(rand() * chars.length);
          const r = rand();
          if (r < 0.4) chars.splice(at, 1);
          else if (r < 0.8) chars[at] = alphabet[Math.floor(rand() * alphabet.length)];
          else chars.splice(at, 0, alphabet[Math.floor(rand() * alphabet.length)]);
        }
        text = chars.join("");
      }
      let request: ClientRequest;
      try {
        request = parseClientText(text);
      } catch (e) {
        if (!isSpatialRewardError(e) || !["bad_message", "payload_too_large"].includes(e.code)) failures.push(`${JSON.stringify(text)}: ${String(e)}`);
        continue;
      }
      accepted++;
      // Whatever is accepted is well-typed: uint32 ids only.
      const ids = request.op === "subscribe" ? request.subscriptions.flatMap((s) => [s.id, s.channelId]) : request.op === "unsubscribe" ? request.subscriptionIds : [];
      if (!ids.every((id) => Number.isInteger(id) && id >= 0 && id <= 0xffffffff)) failures.push(`${JSON.stringify(text)} accepted with ids ${ids.join()}`);
    }
    expect(failures).toEqual([]);
    // The mutations leave some messages valid: the fuzz exercises both paths.
    expect(accepted).toBeGreaterThan(100);
  });
});

describe("parseClientBinary", () => {
  it("client publish and service calls are unsupported; other opcodes, empty and oversized frames are refused", () => {
    expect(parseClientBinary(Uint8Array.of(1, 0, 0, 0, 0, 9))).toEqual({ op: "unsupported", what: "binary:messageData" });
    expect(parseClientBinary(Uint8Array.of(2))).toEqual({ op: "unsupported", what: "binary:serviceCallRequest" });
    expect(refusal(() => parseClientBinary(new Uint8Array(0))).message).toMatch(/empty/);
    expect(refusal(() => parseClientBinary(Uint8Array.of(0xff, 1))).message).toMatch(/unknown binary opcode 0xff/);
    expect(refusal(() => parseClientBinary(new Uint8Array(MAX_CLIENT_MESSAGE_BYTES + 1).fill(1))).code).toBe("payload_too_large");
    const rand = mulberry32(5);
    const failures: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256));
      try {
        const r = parseClientBinary(bytes);
        if (r.op !== "unsupported" || (bytes[0] !== 1 && bytes[0] !== 2)) failures.push(`opcode ${bytes[0]} gave ${JSON.stringify(r)}`);
      } catch (e) {
        if (!isSpatialRewardError(e) || e.code !== "bad_message" || bytes[0] === 1 || bytes[0] === 2) failures.push(`opcode ${bytes[0]}: ${String(e)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
