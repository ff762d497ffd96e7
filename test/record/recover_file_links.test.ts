import { linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, lstatSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EpisodeWriter } from "../../nodes/recorder/episode_writer.js";
import { recoverFile } from "../../nodes/recorder/recording_files.js";
import { rosChannel } from "../../src/record/channel_plan.js";
import { readIndexed } from "./mcap_test_helpers.js";

/**
 * record recover writes OUT.partial and renames it: whatever already has that name (a stale
 * partial, or a link someone left to the recording itself) is replaced, never written through.
 */
const dir = mkdtempSync(join(tmpdir(), "recover-links-"));
const input = join(dir, "episode.mcap");
let original: Buffer;
beforeAll(async () => {
  const w = await EpisodeWriter.create(input, [rosChannel("/a", "std_msgs/msg/String")], null, { chunkSize: 1024 });
  for (let i = 0; i < 50; i++) {
    w.write(0, 1_000_000_000n + BigInt(i), new Uint8Array(64).fill(i));
    await w.idle();
  }
  await w.close();
  original = readFileSync(input);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("record recover's partial file", () => {
  for (const kind of ["symlink", "hard link", "stale file"] as const) {
    it(`a ${kind} named OUT.partial is replaced, not written through; the recording is untouched`, async () => {
      const out = join(dir, `out-${kind.replace(" ", "-")}.mcap`);
      const partial = `${out}.partial`;
      if (kind === "symlink") symlinkSync(input, partial);
      else if (kind === "hard link") linkSync(input, partial);
      else writeFileSync(partial, "left by a killed run");
      const r = await recoverFile(input, out);
      expect(r.messages).toBe(50);
      expect(readFileSync(input).equals(original)).toBe(true);
      expect(existsSync(partial)).toBe(false);
      expect(lstatSync(out).isFile()).toBe(true);
      expect((await readIndexed(out)).messages).toHaveLength(50);
    });
  }
});
