import { createRequire } from "node:module";
import * as zstd from "@foxglove/wasm-zstd";
import lz4Decompress from "@foxglove/wasm-lz4";
import type { DecompressHandlers } from "@mcap/core";

/**
 * MCAP chunk compression: zstd (the default, as the mcap CLI writes; rosbag2's mcap plugin
 * writes none unless a storage preset such as zstd_fast asks), lz4 (faster to read, larger) or
 * none. zstd compresses and decompresses with @foxglove/wasm-zstd; lz4 is
 * written with lz4js (LZ4 frame format, what MCAP's "lz4" means) and read with
 * @foxglove/wasm-lz4, which only decompresses. Call loadCompression() once before either.
 */
export const COMPRESSIONS = ["zstd", "lz4", "none"] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export type ChunkCompressor = (chunk: Uint8Array) => { compression: string; compressedData: Uint8Array };

interface Lz4js {
  compress(data: Uint8Array): Uint8Array;
}
const lz4js = createRequire(import.meta.url)("lz4js") as Lz4js;

let loaded: Promise<void> | null = null;

/** Resolves once the wasm codecs are ready (their modules instantiate asynchronously). */
export function loadCompression(): Promise<void> {
  loaded ??= Promise.all([zstd.isLoaded, lz4Decompress.isLoaded]).then(() => undefined);
  return loaded;
}

/**
 * zstd level 1 by default: on a 640x480 RGB-D 30 Hz + 240 Hz mocap stream it writes about 6x
 * real time where level 3 (zstd's own default) manages under 4x, for files ~12% larger
 * (bench/record_bench.ts). lz4 (lz4js, pure JS) is slower to write here than wasm zstd.
 */
export const DEFAULT_ZSTD_LEVEL = 1;

/** The writer's chunk compressor for `kind`, undefined for "none". */
export function chunkCompressor(kind: Compression, zstdLevel = DEFAULT_ZSTD_LEVEL): ChunkCompressor | undefined {
  switch (kind) {
    case "zstd":
      return (chunk) => ({ compression: "zstd", compressedData: zstd.compress(chunk, zstdLevel) });
    case "lz4":
      return (chunk) => ({ compression: "lz4", compressedData: lz4js.compress(chunk) });
    case "none":
      return undefined;
  }
}

/** Decompression for readers of zstd and lz4 chunks (sizes are bounded by the caller: McapScanner). */
export function decompressHandlers(): DecompressHandlers {
  return {
    zstd: (buffer, size) => zstd.decompress(buffer, Number(size)),
    lz4: (buffer, size) => lz4Decompress(buffer, Number(size)),
  };
}
