import { describe, expect, it, vi } from "vitest";
import { TINY_CONFIG } from "../../../src/backbone/config.js";

// onnxruntime-node is an optional dependency: where its install was skipped or failed, opening
// the backbone must say so (typed, with the fix), not crash a worker thread.
vi.mock("node:module", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:module")>();
  const createRequire = (from: string | URL) => {
    const req = real.createRequire(from);
    const resolve = (id: string, o?: { paths?: string[] }) => {
      if (id === "onnxruntime-node") throw Object.assign(new Error(`Cannot find module '${id}'`), { code: "MODULE_NOT_FOUND" });
      return req.resolve(id, o);
    };
    return Object.assign((id: string) => req(id), req, { resolve });
  };
  return { ...real, default: { ...real, createRequire }, createRequire };
});

describe("backbone runtime without onnxruntime-node", () => {
  it("open rejects with backend_unavailable saying how to install it, and starts no worker", async () => {
    const { BackboneRuntime } = await import("../../../nodes/backbone/backbone_runtime.js");
    const e = await BackboneRuntime.open({ model: { seed: 1, config: TINY_CONFIG }, maxStreams: 1 }).then(
      () => null,
      (err: unknown) => err as { code?: string; message?: string },
    );
    expect(e?.code).toBe("backend_unavailable");
    expect(e?.message).toMatch(/npm install onnxruntime-node/);
  });
});
