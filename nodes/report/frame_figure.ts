import { InvalidInputError } from "../../src/errors.js";
import type { PinholeIntrinsics } from "../../src/geometry/intrinsics.js";
import type { ImageLike } from "../../src/scene/image.js";
import { displayName, type Scene } from "../../src/scene/scene_object.js";
import { projectBox } from "./box_projection.js";
import { figureBackend, font } from "./figure_backend.js";

/** A scene and the rotation its boxes need to reach the camera (SpatialFrame.rotation, or rotationFromTf). */
export interface PlacedScene {
  scene: Scene;
  /** Row-major optical → spatial rotation of the scene's frame. */
  rotation: ArrayLike<number>;
}

export interface FrameFigureInput {
  /** rgb8 or bgr8. */
  image: ImageLike;
  intrinsics: PinholeIntrinsics;
  /** What perception made of the frame: drawn in colour with labels. */
  perceived: PlacedScene | null;
  /** The simulator's ground truth, when there is one: drawn thin and dashed, without labels. */
  truth?: PlacedScene | null;
  /** One line under the image. */
  caption: string;
}

/** Where each perceived object's label went (for the page's table and for tests). */
export interface FrameLabel {
  id: string;
  text: string;
  color: string;
  /** The projected box centre, or null when it is behind the camera. */
  center: { u: number; v: number } | null;
}

export interface FrameFigure {
  png: Buffer;
  width: number;
  height: number;
  labels: FrameLabel[];
  /** Boxes that could not be drawn (not finite, or wholly behind the camera). */
  skipped: number;
}

/** Tableau 10: distinct on photos and for common colour blindness. */
export const BOX_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const CAPTION_PX = 26;
/** Labels longer than this are cut: an object's name comes from the wire. */
const MAX_LABEL = 40;

/** RGBA pixels of an rgb8/bgr8 image, row padding dropped. */
function rgba(image: ImageLike): Uint8ClampedArray {
  const { width, height, step, data, encoding } = image;
  if (encoding !== "rgb8" && encoding !== "bgr8") throw new InvalidInputError("bad_encoding", `report: the frame is ${JSON.stringify(String(encoding).slice(0, 32))}, not rgb8 or bgr8`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 16384 || height > 16384) {
    throw new InvalidInputError("bad_image_size", `report: a ${width}x${height} frame cannot be drawn`);
  }
  if (!Number.isInteger(step) || step < width * 3 || data.length < step * (height - 1) + width * 3) {
    throw new InvalidInputError("bad_image_step", `report: ${width}x${height} ${encoding} with step ${step} needs ${step * (height - 1) + width * 3} bytes, got ${data.length}`);
  }
  const out = new Uint8ClampedArray(width * height * 4);
  const r = encoding === "rgb8" ? 0 : 2, b = 2 - r;
  for (let v = 0; v < height; v++) {
    for (let u = 0, i = v * step, o = v * width * 4; u < width; u++, i += 3, o += 4) {
      out[o] = data[i + r];
      out[o + 1] = data[i + 1];
      out[o + 2] = data[i + b];
      out[o + 3] = 255;
    }
  }
  return out;
}

/**
 * The camera frame with the scene's 3D boxes projected on it (12 edges each) and each
 * perceived object's name at the top of its box, plus a caption: a PNG.
 */
export async function drawFrameFigure(input: FrameFigureInput): Promise<FrameFigure> {
  const backend = await figureBackend();
  const { width, height } = input.image;
  const pixels = rgba(input.image);
  const canvas = backend.canvas.createCanvas(width, height + CAPTION_PX);
  const ctx = canvas.getContext("2d");
  ctx.putImageData(new backend.canvas.ImageData(pixels, width, height), 0, 0);
  let skipped = 0;
  const k = input.intrinsics;
  const line = Math.max(1.5, width / 400);

  if (input.truth) {
    ctx.save();
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = Math.max(1, line * 0.6);
    ctx.strokeStyle = "rgba(255,255,255,0.85)";
    for (const o of input.truth.scene.objects) {
      const box = projectBox(o.center, o.size, input.truth.rotation, k);
      if (!box || box.segments.length === 0) {
        skipped++;
        continue;
      }
      ctx.beginPath();
      for (const [u0, v0, u1, v1] of box.segments) {
        ctx.moveTo(u0, v0);
        ctx.lineTo(u1, v1);
      }
      ctx.stroke();
    }
    ctx.restore();
  }

  const labels: FrameLabel[] = [];
  const placed: { u: number; v: number; text: string; color: string }[] = [];
  for (const [i, o] of (input.perceived?.scene.objects ?? []).entries()) {
    const box = projectBox(o.center, o.size, input.perceived!.rotation, k);
    const color = BOX_COLORS[i % BOX_COLORS.length];
    const text = displayName(o).slice(0, MAX_LABEL);
    if (!box || box.segments.length === 0 || box.top === null) {
      skipped++;
      continue;
    }
    ctx.lineWidth = line;
    ctx.strokeStyle = color;
    ctx.beginPath();
    for (const [u0, v0, u1, v1] of box.segments) {
      ctx.moveTo(u0, v0);
      ctx.lineTo(u1, v1);
    }
    ctx.stroke();
    labels.push({ id: o.id, text, color, center: box.center });
    placed.push({ u: box.top.u, v: box.top.v, text, color });
  }

  // Labels after every box, so no edge crosses a name; each above its box's top, moved up (or
  // below the top when there is no room) past the labels already placed, with a leader line then.
  const px = Math.max(11, Math.round(width / 50));
  ctx.font = font(backend, px, true);
  ctx.textBaseline = "bottom";
  const h = px + 6;
  const taken: { x: number; y: number; w: number }[] = [];
  const overlaps = (x: number, y: number, w: number) => taken.some((t) => x < t.x + t.w && t.x < x + w && y - h < t.y && t.y - h < y);
  for (const l of [...placed].sort((a, b) => a.v - b.v)) {
    const w = ctx.measureText(l.text).width + 8;
    const x = Math.min(Math.max(0, l.u - w / 2), Math.max(0, width - w));
    const clampY = (y: number) => Math.min(Math.max(h, y), height);
    const home = clampY(l.v - 3);
    const candidates = [home];
    for (let k = 1; k <= 6; k++) candidates.push(clampY(home - k * h), clampY(home + k * h));
    const y = candidates.find((c) => !overlaps(x, c, w)) ?? home;
    taken.push({ x, y, w });
    if (y !== home) {
      ctx.strokeStyle = l.color;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(l.u, l.v);
      ctx.lineTo(Math.min(Math.max(x, l.u), x + w), y < l.v ? y : y - h);
      ctx.stroke();
    }
    ctx.fillStyle = l.color;
    ctx.fillRect(x, y - h, w, h);
    ctx.fillStyle = "#ffffff";
    ctx.fillText(l.text, x + 4, y - 3);
  }

  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, height, width, CAPTION_PX);
  ctx.fillStyle = "#222222";
  ctx.font = font(backend, 13);
  ctx.textBaseline = "middle";
  ctx.fillText(input.caption, 6, height + CAPTION_PX / 2, width - 12);
  const png = await canvas.encode("png");
  return { png, width, height: height + CAPTION_PX, labels, skipped };
}
