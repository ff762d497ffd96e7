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
  it("delivers what a callback publishes to a reader of the same process in the same wake, before the event loop moves on", async () => {
    // Cyclone hands a same-process sample to its reader on the writing thread, i.e. inside the
    // callback that publishes; the one wake that is running takes it too (no second wake of
    // the loop, which costs an eventfd write and read and a context switch per topic).
    const b = binding!;
    const codec = codecFor(STRING);
    const topicA = b.createTopic(participant, "rt/reader_batches_a", ddsTypeName(STRING));
    const topicB = b.createTopic(participant, "rt/reader_batches_b", ddsTypeName(STRING));
    const writerA = b.createWriter(participant, topicA, RELIABLE_ALL);
    const writerB = b.createWriter(participant, topicB, RELIABLE_ALL);
    const order: string[] = [];
    // B's reader first: with a wake per reader, Node took B's after A's only in the next turn.
    const readers = [
      b.createReader(participant, topicB, RELIABLE_ALL, (views) => {
        for (const v of views) order.push(`b:${(codec.decode(v) as { data: string }).data}`);
      }),
      b.createReader(participant, topicA, RELIABLE_ALL, (views) => {
        for (const v of views) {
          const text = (codec.decode(v) as { data: string }).data;
          order.push(`a:${text}`);
          b.write(writerB, codec.encode({ data: `re-${text}` }));
          setImmediate(() => order.push(`immediate after a:${text}`));
        }
      }),
    ];
    await until("the readers to match", () => b.publicationMatched(writerA) === 1 && b.publicationMatched(writerB) === 1);
    b.write(writerA, codec.encode({ data: "1" }));
    await until("both samples and the immediate", () => order.length === 3);
    expect(order).toEqual(["a:1", "b:re-1", "immediate after a:1"]);
    for (const r of readers) b.deleteEntity(r);
  });
  it("calls the readers that have samples at once in the order they were made, whatever order the samples came in", async () => {
    // As a ROS 2 executor takes the ready subscriptions of its wait set (and as a wake per reader
    // did): the spatial node's scene reader, made before its question reader, sees a scene that
    // came with a question before the question.
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
    // Both handed over on this thread before it returns to the event loop: one wake takes both.
    b.write(writerSecond, codec.encode({ data: "came first" }));
    b.write(writerFirst, codec.encode({ data: "came second" }));
    await until("both", () => order.length === 2);
    expect(order).toEqual(["first:came second", "second:came first"]);
    for (const r of readers) b.deleteEntity(r);
  });
});
