import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { codecFor } from "../../src/transport/dds/codec_cache.js";
import { loadDdsBinding } from "../../src/transport/dds/native_binding.js";
import { ddsTypeName } from "../../src/transport/dds/ros_dds_names.js";
import type { QoS } from "../../src/transport/qos.js";
import { DDS_AVAILABLE, LOOPBACK_CONFIG, until } from "./dds_env.js";

// A domain of its own, so parallel test files never see each other's traffic.
const DOMAIN = 64;
const STRING = "std_msgs/msg/String";
const RELIABLE_ALL: QoS = { reliability: "reliable", durability: "volatile", history: "keep_all", depth: 1 };

/** Keeps the JS thread busy, so samples arriving meanwhile queue up into one batch. */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

describe.runIf(DDS_AVAILABLE)("reader batches (bare binding)", () => {
  const binding = DDS_AVAILABLE ? loadDdsBinding() : undefined;
  const participant = DDS_AVAILABLE ? binding!.createParticipant(DOMAIN, readFileSync(LOOPBACK_CONFIG, "utf8")) : -1;
  afterAll(() => {
    if (participant >= 0) binding!.deleteEntity(participant);
  });

  it("hands each batch with its own length, whatever the last one's, and keeps no view after the call", async () => {
    const b = binding!;
    const codec = codecFor(STRING);
    const topic = b.createTopic(participant, "rt/reader_batches", ddsTypeName(STRING));
    const writer = b.createWriter(participant, topic, RELIABLE_ALL);
    const received: string[] = [];
    const sizes: number[] = [];
    const arrays = new Set<Uint8Array[]>();
    b.createReader(participant, topic, RELIABLE_ALL, (views) => {
      sizes.push(views.length);
      arrays.add(views);
      for (const v of views) received.push((codec.decode(v) as { data: string }).data);
    });
    await until("the reader to match", () => b.publicationMatched(writer) === 1);
    const send = (text: string) => b.write(writer, codec.encode({ data: text }));
    // 1, then a burst of 6 while the JS thread is busy (one batch), then 1 and 2: the length
    // grows, shrinks and grows again across batches of the one reused array.
    send("a");
    await until("a", () => received.length === 1);
    for (const t of ["b", "c", "d", "e", "f", "g"]) send(t);
    busy(300);
    await until("the burst", () => received.length === 7);
    send("h");
    await until("h", () => received.length === 8);
    send("i");
    send("j");
    busy(300);
    await until("i and j", () => received.length === 10);
    expect(received).toEqual(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
    expect(sizes.reduce((n, s) => n + s, 0)).toBe(10);
    // The burst came as one batch after a batch of one, and was followed by a batch of one.
    expect(sizes).toContain(6);
    expect(sizes[sizes.indexOf(6) + 1]).toBe(1);
    // The array is the addon's, reused; once a call returns it holds no view (no sample is kept alive through it).
    for (const views of arrays) for (let i = 0; i < views.length; i++) expect(views[i]).toBeUndefined();
  });
  it("calls the readers that have samples at once in the order they were made, whatever order the samples came in", async () => {
    // As a ROS 2 executor takes the ready subscriptions of its wait set: the spatial node's scene
    // reader, made before its question reader, sees a scene that came with a question before the
    // question (a delivery in arrival order answered "no scene": session 24, the shared wake tried
    // and reverted).
    const b = binding!;
    const codec = codecFor(STRING);
    const first = b.createTopic(participant, "rt/reader_batches_first", ddsTypeName(STRING));
    const second = b.createTopic(participant, "rt/reader_batches_second", ddsTypeName(STRING));
    const writerFirst = b.createWriter(participant, first, RELIABLE_ALL);
    const writerSecond = b.createWriter(participant, second, RELIABLE_ALL);
    const order: string[] = [];
    const readers = [
      b.createReader(participant, first, RELIABLE_ALL, (views) => {
        for (const v of views) order.push(`first:${(codec.decode(v) as { data: string }).data}`);
      }),
      b.createReader(participant, second, RELIABLE_ALL, (views) => {
        for (const v of views) order.push(`second:${(codec.decode(v) as { data: string }).data}`);
      }),
    ];
    await until("the readers to match", () => b.publicationMatched(writerFirst) === 1 && b.publicationMatched(writerSecond) === 1);
    // Both handed over on this thread before it returns to the event loop.
    b.write(writerSecond, codec.encode({ data: "came first" }));
    b.write(writerFirst, codec.encode({ data: "came second" }));
    await until("both", () => order.length === 2);
    expect(order).toEqual(["first:came second", "second:came first"]);
    for (const r of readers) b.deleteEntity(r);
  });
});
