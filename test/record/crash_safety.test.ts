import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as zstd from "@foxglove/wasm-zstd";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCompression } from "../../nodes/recorder/chunk_compression.js";
import { inspectFile, recoverFile } from "../../nodes/recorder/recording_files.js";
import { readIndexed, seededRandom } from "./mcap_test_helpers.js";

/**
 * Crash safety of a real recorder process: SIGKILL at random moments, then `recover` must return
 * every message of every chunk that was complete in the file, counted independently by walking
 * the file's records and decompressing each complete chunk here; SIGTERM and SIGINT must leave a
 * complete, indexed file. The child (fixtures/recording_child.ts) is bundled once with esbuild
 * (vitest's own bundler) into build/, so each spawn is a plain `node` start.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const buildDir = join(root, "build", "test-record", String(process.pid));
const child = join(buildDir, "recording_child.mjs");
const dir = mkdtempSync(join(tmpdir(), "crash-safety-"));

beforeAll(async () => {
  mkdirSync(buildDir, { recursive: true });
  await build({ entryPoints: [join(root, "test/record/fixtures/recording_child.ts")], bundle: true, platform: "node", format: "esm", target: "node20", packages: "external", outfile: child, logLevel: "silent" });
  await loadCompression();
}, 30_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(buildDir, { recursive: true, force: true });
});

interface Running {
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>;
  kill(signal: NodeJS.Signals): void;
}

function start(path: string, chunkSize: number, mode = ""): Running {
  const p = spawn(process.execPath, [child, path, String(chunkSize), mode], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  p.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes("ready\n")) onReady();
  });
  p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) => {
    p.on("exit", (code, signal) => {
      if (stderr.trim() !== "") process.stderr.write(`recording child stderr: ${stderr}\n`);
      onReady();
      resolve({ code, signal, stdout });
    });
  });
  return { ready, exited, kill: (s) => p.kill(s) };
}

/**
 * The oracle: message indices in the chunks that are complete in `bytes`, found without
 * @mcap/core: top-level records framed by their length fields, each complete Chunk's header
 * fields read by hand, its records decompressed with zstd and walked for Message records.
 */
function completeChunkMessages(bytes: Uint8Array): { chunks: number; indices: number[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const indices: number[] = [];
  let chunks = 0;
  for (let o = 8; o + 9 <= bytes.length;) {
    const op = bytes[o];
    const end = o + 9 + Number(view.getBigUint64(o + 1, true));
    if (end > bytes.length) break;
    if (op === 6) {
      chunks++;
      let p = o + 9 + 16;
      const uncompressed = Number(view.getBigUint64(p, true));
      p += 8 + 4;
      const nameLength = view.getUint32(p, true);
      const compression = new TextDecoder().decode(bytes.subarray(p + 4, p + 4 + nameLength));
      p += 4 + nameLength;
      const recordsLength = Number(view.getBigUint64(p, true));
      const records = bytes.subarray(p + 8, p + 8 + recordsLength);
      const inner = compression === "zstd" ? new Uint8Array(zstd.decompress(records, uncompressed)) : records;
      const iv = new DataView(inner.buffer, inner.byteOffset, inner.byteLength);
      for (let q = 0; q + 9 <= inner.length;) {
        const len = Number(iv.getBigUint64(q + 1, true));
        // Message: channel id u16, sequence u32, log time u64, publish time u64, then the payload.
        if (inner[q] === 5) indices.push(iv.getUint32(q + 9 + 22, true));
        q += 9 + len;
      }
    }
    o = end;
  }
  return { chunks, indices };
}

const indicesOf = (messages: { data: Uint8Array }[]) =>
  messages.map((m) => new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength).getUint32(0, true)).sort((a, b) => a - b);

describe("recorder crash safety", () => {
  it("SIGKILL at 24 random moments: recover returns every message of every complete chunk, each time", async () => {
    const rnd = seededRandom(424242);
    let totalChunks = 0;
    for (let run = 0; run < 24; run++) {
      const path = join(dir, `kill_${run}.mcap`);
      const chunkSize = 1024 + Math.floor(rnd() * 8192);
      const c = start(path, chunkSize);
      await c.ready;
      await new Promise((r) => setTimeout(r, 5 + Math.floor(rnd() * 120)));
      c.kill("SIGKILL");
      const { signal } = await c.exited;
      expect(signal).toBe("SIGKILL");
      const bytes = new Uint8Array(readFileSync(path));
      const oracle = completeChunkMessages(bytes);
      totalChunks += oracle.chunks;
      const inspection = await inspectFile(path);
      expect(inspection.complete).toBe(false);
      // Each chunk is one write(2): a kill lands between writes, or (rarely) inside a long one.
      expect(["end_of_data", "truncated"]).toContain(inspection.end);
      const out = join(dir, `kill_${run}.recovered.mcap`);
      const recovered = await recoverFile(path, out);
      expect(recovered.chunks_read, `run ${run}`).toBe(oracle.chunks);
      expect(recovered.messages, `run ${run}`).toBe(oracle.indices.length);
      const { messages, reader } = await readIndexed(out);
      // Exactly the messages of the complete chunks: the first n, none missing, none extra.
      expect(indicesOf(messages), `run ${run}`).toEqual(oracle.indices.slice().sort((a, b) => a - b));
      expect(oracle.indices).toEqual([...oracle.indices.keys()]);
      expect(reader.statistics?.messageCount).toBe(BigInt(oracle.indices.length));
      // The episode metadata was written before the first chunk: it always survives.
      expect(recovered.metadata).toBe(1);
    }
    expect(totalChunks).toBeGreaterThan(24);
  }, 60_000);

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal} finishes the file: footer, summary and index, with every message written`, async () => {
      const path = join(dir, `${signal}.mcap`);
      const c = start(path, 4096, "finish");
      await c.ready;
      await new Promise((r) => setTimeout(r, 150));
      // On a loaded machine 150 ms may hold only a few chunks: wait until a dozen are on disk.
      for (const end = Date.now() + 10_000; statSync(path).size < 12 * 1024 && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
      c.kill(signal);
      const { code, stdout } = await c.exited;
      expect(code).toBe(0);
      const result = JSON.parse(stdout.trim().split("\n").pop()!) as { messages: number; ok: boolean };
      expect(result.ok).toBe(true);
      expect(result.messages).toBeGreaterThan(100);
      const inspection = await inspectFile(path);
      expect(inspection).toMatchObject({ complete: true, indexed: true, problems: [], messages: result.messages });
      const { messages } = await readIndexed(path);
      expect(indicesOf(messages)).toEqual([...Array(result.messages).keys()]);
    }, 30_000);
  }
});
