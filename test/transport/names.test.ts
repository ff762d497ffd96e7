import { describe, expect, it } from "vitest";
import { SpatialRewardError } from "../../src/errors.js";
import { expandName, nodeIdentity, normalizeNamespace, parseRemapRule, resolveName } from "../../src/transport/names.js";

describe("ROS 2 name resolution", () => {
  it.each([
    // name, namespace, node, remaps, resolved
    ["chatter", "/", "n", [], "/chatter"],
    ["chatter", "/robot", "n", [], "/robot/chatter"],
    ["a/b", "/robot/arm", "n", [], "/robot/arm/a/b"],
    ["/abs", "/robot", "n", [], "/abs"],
    ["~", "/robot", "n", [], "/robot/n"],
    ["~/private", "/robot", "n", [], "/robot/n/private"],
    ["~/private", "/", "n", [], "/n/private"],
    ["{node}/state", "/robot", "cam", [], "/robot/cam/state"],
    ["/{ns}/x", "/robot", "cam", [], "/robot/x"],
    ["camera/image", "/robot", "n", ["camera/image:=/cam0/image"], "/cam0/image"],
    ["camera/image", "/", "n", ["/camera/image:=rgb"], "/rgb"],
    ["camera/image", "/robot", "n", ["/camera/image:=rgb"], "/robot/camera/image"],
    ["~/out", "/r", "n", ["~/out:=/shared"], "/shared"],
    ["x", "/", "n", ["x:=first", "x:=second"], "/first"],
    ["x", "/", "n", ["n:x:=mine"], "/mine"],
    ["x", "/", "n", ["other:x:=theirs"], "/x"],
    ["x", "/", "n", ["__node:=m", "__ns:=/q"], "/x"],
  ] as const)("%s in %s (node %s, rules %j) → %s", (name, ns, node, remaps, want) => {
    expect(resolveName(name, ns, node, remaps)).toBe(want);
  });

  it.each([
    ["", "empty"],
    ["bad name", "token"],
    ["1abc", "token"],
    ["a//b", '"//"'],
    ["a/", 'end with "/"'],
    ["/", "empty"],
    ["a/~b", '"~"'],
    ["~private", '"~"'],
    ["a-b", "token"],
    ["{robot}/x", "substitution"],
  ])("rejects %j with a typed bad_argument error mentioning %s", (name, why) => {
    let err: unknown;
    try {
      expandName(name, "/", "n");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpatialRewardError);
    expect((err as SpatialRewardError).code).toBe("bad_argument");
    expect((err as Error).message).toContain(why);
  });

  it("validates remap rules and namespaces", () => {
    expect(parseRemapRule("a:=b")).toEqual({ from: "a", to: "b" });
    expect(parseRemapRule("talker:a:=b")).toEqual({ nodeName: "talker", from: "a", to: "b" });
    expect(() => parseRemapRule("a=b")).toThrow(/expected from:=to/);
    expect(() => parseRemapRule(":=b")).toThrow(/expected from:=to/);
    expect(() => parseRemapRule("a:=")).toThrow(/expected from:=to/);
    expect(() => resolveName("x", "/", "n", ["x:=bad name"])).toThrow(/invalid/);
    expect(normalizeNamespace(undefined)).toBe("/");
    expect(normalizeNamespace("robot/")).toBe("/robot");
    expect(() => normalizeNamespace("/ro bot")).toThrow(/invalid namespace/);
  });

  it("applies __node / __name / __ns rules, node-specific ones only to that node", () => {
    expect(nodeIdentity("perception", "/a", ["__node:=p2", "__ns:=/cam1"])).toEqual({ name: "p2", namespace: "/cam1" });
    expect(nodeIdentity("perception", "/a", ["other:__name:=p3"])).toEqual({ name: "perception", namespace: "/a" });
    expect(() => nodeIdentity("bad/name", "/")).toThrow(/invalid node name/);
  });
});
