import type { RgbdFrame } from "../src/perception/rgbd_frame.js";
import type { ImageLike } from "../src/scene/image.js";

/**
 * Simulator frames packed for programs outside this process (the C and Fast DDS interop peers,
 * see test/interop/README.md): `meta.txt` (`key value` lines) and one `frame_NNNNN.bin` per
 * frame, little-endian: rgb8 (w*h*3), depth uint16 mm (w*h*2), instance ids uint16 (w*h*2),
 * uint32 n, then n × {uint16 id, uint16 label length, label bytes}.
 */
export function dumpMeta(frame: RgbdFrame, frames: number, frameId: string): string {
  const k = frame.intrinsics;
  return [
    `width ${k.width}`, `height ${k.height}`, `fx ${k.fx}`, `fy ${k.fy}`, `cx ${k.cx}`, `cy ${k.cy}`,
    `frames ${frames}`, `frame_id ${frameId}`, "",
  ].join("\n");
}

function pixel16(img: ImageLike, i: number, view: DataView): number {
  const le = (img.is_bigendian ?? 0) === 0;
  switch (img.encoding) {
    case "mono8":
    case "8UC1":
      return img.data[i];
    case "mono16":
    case "16UC1":
      return view.getUint16(i * 2, le);
    default:
      throw new Error(`cannot dump a ${img.encoding} single-channel image`);
  }
}

function depthMm(img: ImageLike, i: number, view: DataView): number {
  if (img.encoding === "32FC1") {
    const m = view.getFloat32(i * 4, (img.is_bigendian ?? 0) === 0);
    return Number.isFinite(m) && m > 0 ? Math.min(65535, Math.round(m * 1000)) : 0;
  }
  return pixel16(img, i, view);
}

export function encodeDumpFrame(frame: RgbdFrame): Uint8Array {
  const { width, height } = frame.rgb;
  if (frame.rgb.encoding !== "rgb8" || frame.rgb.step !== width * 3) throw new Error("dump needs packed rgb8");
  if (!frame.instances) throw new Error("dump needs instance masks");
  const n = width * height;
  const labels = [...frame.instances.labels].map(([id, label]) => [id, new TextEncoder().encode(label)] as const);
  const size = n * 3 + n * 2 + n * 2 + 4 + labels.reduce((s, [, l]) => s + 4 + l.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(frame.rgb.data.subarray(0, n * 3), 0);
  const depth = frame.depth;
  const dView = new DataView(depth.data.buffer, depth.data.byteOffset, depth.data.byteLength);
  const mask = frame.instances.image;
  const mView = new DataView(mask.data.buffer, mask.data.byteOffset, mask.data.byteLength);
  for (let i = 0; i < n; i++) {
    view.setUint16(n * 3 + i * 2, depthMm(depth, i, dView), true);
    view.setUint16(n * 5 + i * 2, pixel16(mask, i, mView), true);
  }
  let o = n * 7;
  view.setUint32(o, labels.length, true);
  o += 4;
  for (const [id, label] of labels) {
    view.setUint16(o, id, true);
    view.setUint16(o + 2, label.length, true);
    out.set(label, o + 4);
    o += 4 + label.length;
  }
  return out;
}
