import { describe, expect, it, vi } from "vitest";

// `spatial-reward backbone bench` where onnxruntime-node is not installed (an optional
// dependency): a typed backend_unavailable saying how to install it, exit 1, and none of the
// bench modules (which import onnxruntime-node) loaded, so no raw ERR_MODULE_NOT_FOUND.
const loaded = vi.hoisted(() => [] as string[]);

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
vi.mock("../../bench/backbone/token_latency.js", () => {
  loaded.push("token_latency");
  return { measureTokenLatency: () => Promise.reject(new Error("bench module loaded")) };
});
vi.mock("../../bench/backbone/coarse_to_fine_bench.js", () => {
  loaded.push("coarse_to_fine_bench");
  return { measureCoarseToFine: () => Promise.reject(new Error("bench module loaded")) };
});
vi.mock("../../bench/backbone/stream_bench.js", () => {
  loaded.push("stream_bench");
  return { measureStreams: () => Promise.reject(new Error("bench module loaded")) };
});

describe("backbone bench without onnxruntime-node", () => {
  it("run() rejects with backend_unavailable before loading any bench module", async () => {
    const { run } = await import("../../nodes/cli/backbone_bench.js");
    expect(loaded).toEqual([]);
    const e = await run({ json: true, quick: true }).then(
      () => null,
      (err: unknown) => err as { code?: string; message?: string },
    );
    expect(e?.code).toBe("backend_unavailable");
    expect(e?.message).toMatch(/npm install onnxruntime-node/);
    expect(loaded).toEqual([]);
  });

  it("the command exits 1 with the message on one stderr line", async () => {
    const { runCli } = await import("../../nodes/cli/run_cli.js");
    const err: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      err.push(String(chunk));
      return true;
    });
    let code: number;
    try {
      code = await runCli(["backbone", "bench", "--quick", "--json"]);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(1);
    expect(err.join("")).toMatch(/^spatial-reward backbone: the backbone needs onnxruntime-node, which is not installed: npm install onnxruntime-node/m);
    expect(loaded).toEqual([]);
  });
});
