import { describe, expect, it } from "vitest";
import { checkChannelPlans, jsonChannel, profileFor, protobufChannel, rosChannel, MAX_NAME_LENGTH } from "../../src/record/channel_plan.js";
import {
  episodeEndEntries, episodeMetadataEntries, parseEpisodeEndMetadata, parseEpisodeMetadata, seedValue, type EpisodeMetadata, MAX_METADATA_VALUE,
} from "../../src/record/episode_metadata.js";
import { jsonText } from "../../src/record/json_text.js";
import { DEFAULT_RECORDED_TOPICS, parseTopicEntry, parseTopicList } from "../../src/record/topic_list.js";
import { isSpatialRewardError } from "../../src/errors.js";
import { CHUNK_LIMITS, COMPRESSION_NAMES } from "../../nodes/cli/record_command.js";
import { COMPRESSIONS } from "../../nodes/recorder/chunk_compression.js";
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from "../../nodes/recorder/episode_writer.js";

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isSpatialRewardError(e) ? e.code : `untyped: ${String(e)}`;
  }
  return undefined;
};

const META: EpisodeMetadata = {
  task: "t", operator: "o", seed: (1n << 64n) - 1n, calibration: "", clockOffsetNs: -(1n << 40n), clockDriftPpm: -0.25,
  startWallTimeNs: 1_700_000_000_123_000_000n, softwareVersion: "v", extra: { rig: "A", "note.x": "é ✓" },
};

describe("channel plans", () => {
  it("ROS, protobuf and JSON channels carry the encodings MCAP readers expect", () => {
    expect(rosChannel("/r", "spatial_reward_msgs/msg/Reward")).toMatchObject({ topic: "/r", messageEncoding: "cdr", schema: { name: "spatial_reward_msgs/msg/Reward", encoding: "ros2msg" } });
    expect(protobufChannel("/m", "spatial_reward.mocap.MocapFrame", new Uint8Array([10, 1, 0]))).toMatchObject({ messageEncoding: "protobuf", schema: { encoding: "protobuf", name: "spatial_reward.mocap.MocapFrame" } });
    expect(jsonChannel("/j", "n", { type: "object" })).toMatchObject({ messageEncoding: "json", schema: { encoding: "jsonschema" } });
    expect(profileFor([rosChannel("/r", "std_msgs/msg/String")])).toBe("ros2");
    expect(profileFor([rosChannel("/r", "std_msgs/msg/String"), jsonChannel("/j", "n", {})])).toBe("");
  });

  it("refuses hostile names and schemas with typed errors", () => {
    expect(code(() => rosChannel("", "std_msgs/msg/String"))).toBe("bad_argument");
    expect(code(() => rosChannel("a\nb", "std_msgs/msg/String"))).toBe("bad_argument");
    expect(code(() => rosChannel("x".repeat(MAX_NAME_LENGTH + 1), "std_msgs/msg/String"))).toBe("input_too_long");
    expect(code(() => protobufChannel("/m", "not a name", new Uint8Array(3)))).toBe("bad_argument");
    expect(code(() => protobufChannel("/m", "a.B", new Uint8Array(0)))).toBe("bad_argument");
    expect(code(() => protobufChannel("/m", "a.B", new Uint8Array((16 << 20) + 1)))).toBe("input_too_long");
    expect(code(() => jsonChannel("/j", "n", "{not json"))).toBe("bad_argument");
    expect(code(() => checkChannelPlans([jsonChannel("/j", "n", {}), jsonChannel("/k", "n", { type: "x" })]))).toBe("bad_argument");
    expect(code(() => checkChannelPlans([jsonChannel("/j", "n", {}), jsonChannel("/k", "n", {})]))).toBeUndefined();
  });
});

describe("episode metadata", () => {
  it("round-trips through the string map, extremes included", () => {
    const entries = episodeMetadataEntries(META);
    expect(entries.get("seed")).toBe("18446744073709551615");
    expect(entries.get("start_wall_time")).toBe("2023-11-14T22:13:20.123Z");
    expect(parseEpisodeMetadata(entries)).toEqual(META);
    expect(parseEpisodeMetadata(episodeMetadataEntries({ ...META, seed: null, clockOffsetNs: null, clockDriftPpm: null }))).toMatchObject({ seed: null, clockOffsetNs: null, clockDriftPpm: null });
  });

  it("refuses what cannot be written, and reads malformed numbers as typed errors, not wrong numbers", () => {
    expect(code(() => episodeMetadataEntries({ ...META, seed: -1n }))).toBe("bad_argument");
    expect(code(() => episodeMetadataEntries({ ...META, seed: 1n << 64n }))).toBe("bad_argument");
    expect(code(() => seedValue(1.5))).toBe("bad_argument");
    expect(code(() => seedValue("7"))).toBe("bad_argument");
    expect(code(() => episodeMetadataEntries({ ...META, task: "x".repeat(MAX_METADATA_VALUE + 1) }))).toBe("input_too_long");
    expect(code(() => episodeMetadataEntries({ ...META, clockDriftPpm: NaN }))).toBe("bad_argument");
    expect(code(() => episodeMetadataEntries({ ...META, extra: { task: "again" } }))).toBe("bad_argument");
    expect(code(() => episodeMetadataEntries({ ...META, task: 5 as unknown as string }))).toBe("bad_argument");
    for (const [k, v] of [["seed", "12abc"], ["seed", "-3"], ["seed", "99999999999999999999"], ["clock_offset_ns", "1e9"], ["clock_drift_ppm", "fast"], ["start_wall_time_ns", "x"]]) {
      expect(code(() => parseEpisodeMetadata(new Map([[k, v]]))), `${k}=${v}`).toBe("bad_message");
    }
    expect(parseEpisodeMetadata(new Map())).toMatchObject({ task: "", seed: null, startWallTimeNs: 0n });
  });
});

describe("episode_end metadata", () => {
  const clock = { offset_ns: -3_200_004_321n, drift_ppm: 12.5, residual_ns: 180.25, samples: 7200, resets: 0, congestions: 1 };

  it("round-trips the end time and each stream's clock estimate", () => {
    const end = { endWallTimeNs: 1_700_000_060_000_000_123n, clocks: { sim: clock, "left.hand": { ...clock, offset_ns: 5n } } };
    const entries = episodeEndEntries(end);
    expect(entries.get("end_wall_time")).toBe("2023-11-14T22:14:20.000Z");
    expect(entries.get("clock/sim/offset_ns")).toBe("-3200004321");
    expect(entries.get("clock/left.hand/congestions")).toBe("1");
    expect(parseEpisodeEndMetadata(entries)).toEqual(end);
    expect(parseEpisodeEndMetadata(episodeEndEntries({ endWallTimeNs: 0n, clocks: {} }))).toEqual({ endWallTimeNs: 0n, clocks: {} });
  });

  it("refuses what cannot be written and reads malformed entries as typed errors", () => {
    expect(code(() => episodeEndEntries({ endWallTimeNs: -1n, clocks: {} }))).toBe("bad_argument");
    expect(code(() => episodeEndEntries({ endWallTimeNs: 0n, clocks: { "a/b": clock } }))).toBe("bad_argument");
    expect(code(() => episodeEndEntries({ endWallTimeNs: 0n, clocks: { "": clock } }))).toBe("bad_argument");
    expect(code(() => episodeEndEntries({ endWallTimeNs: 0n, clocks: { s: { ...clock, drift_ppm: NaN } } }))).toBe("bad_argument");
    expect(code(() => episodeEndEntries({ endWallTimeNs: 0n, clocks: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`s${i}`, clock])) }))).toBe("input_too_long");
    const good = episodeEndEntries({ endWallTimeNs: 5n, clocks: { s: clock } });
    for (const [k, v] of [["end_wall_time_ns", "soon"], ["clock/s/offset_ns", "1e9"], ["clock/s/drift_ppm", "fast"], ["clock/s/samples", ""]]) {
      expect(code(() => parseEpisodeEndMetadata(new Map([...good, [k, v]]))), `${k}=${v}`).toBe("bad_message");
    }
    const noSamples = new Map(good);
    noSamples.delete("clock/s/samples");
    expect(code(() => parseEpisodeEndMetadata(noSamples))).toBe("bad_message");
    expect(code(() => parseEpisodeEndMetadata(new Map()))).toBe("bad_message");
  });
});

describe("topic list", () => {
  it("parses the defaults and entries with and without qos", () => {
    expect(parseTopicList(DEFAULT_RECORDED_TOPICS).map((t) => t.qos)).toContain("latched");
    expect(parseTopicEntry("/tf:tf2_msgs/TFMessage")).toEqual({ topic: "/tf", type: "tf2_msgs/msg/TFMessage", qos: "reliable" });
    expect(parseTopicEntry(" cam/image : sensor_msgs/msg/Image : best_effort ")).toEqual({ topic: "cam/image", type: "sensor_msgs/msg/Image", qos: "best_effort" });
  });

  it("refuses malformed entries with the reason", () => {
    for (const bad of ["", "a", "a:b:c:d", "a b:std_msgs/msg/String", "a//b:std_msgs/msg/String", "a/:std_msgs/msg/String", "a:String", "a:std_msgs/msg/String:sometimes", "9a:std_msgs/msg/String"]) {
      expect(code(() => parseTopicEntry(bad)), bad).toBe("bad_argument");
    }
  });
});

describe("record CLI limits", () => {
  it("are the recorder's own (repeated so that --help loads no codec)", () => {
    expect(COMPRESSION_NAMES).toEqual(COMPRESSIONS);
    expect(CHUNK_LIMITS).toEqual({ min: MIN_CHUNK_SIZE, max: MAX_CHUNK_SIZE });
  });
});

describe("jsonText", () => {
  it("writes bigints as exact integers and matches JSON.stringify otherwise", () => {
    const v = { a: 1700000000000000123n, b: [1, "x", null, true, -5n], c: { d: NaN, e: undefined, f: "q\"\n" }, m: new Map([["k", 2n]]) };
    expect(jsonText(v)).toBe('{"a":1700000000000000123,"b":[1,"x",null,true,-5],"c":{"d":null,"f":"q\\"\\n"},"m":{"k":2}}');
    const plain = { x: [1, 2.5, "s", { y: false }], z: null };
    expect(jsonText(plain)).toBe(JSON.stringify(plain));
  });
});
