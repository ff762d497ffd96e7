import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { drawAccuracyFigure, type TypeScore } from "../../nodes/report/accuracy_figure.js";
import { projectBox } from "../../nodes/report/box_projection.js";
import { BOX_COLORS, drawFrameFigure } from "../../nodes/report/frame_figure.js";
import { escapeHtml, renderPage } from "../../nodes/report/report_page.js";
import { drawRewardFigure, type RewardPoint } from "../../nodes/report/reward_figure.js";
import { InvalidInputError } from "../../src/errors.js";
import type { Scene } from "../../src/scene/scene_object.js";

const K = { width: 160, height: 120, fx: 120, fy: 120, cx: 79.5, cy: 59.5 };
const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** A flat grey rgb8 image. */
function grey(width = K.width, height = K.height, step = width * 3): { width: number; height: number; step: number; encoding: string; data: Uint8Array } {
  return { width, height, step, encoding: "rgb8", data: new Uint8Array(step * height).fill(90) };
}

function scene(objects: { id: string; center: [number, number, number]; size?: [number, number, number] }[]): Scene {
  return {
    stamp: 1n,
    supportZ: null,
    objects: objects.map((o) => ({
      id: o.id, kind: "mug", color: "red", confidence: 1, numPoints: 10,
      center: { x: o.center[0], y: o.center[1], z: o.center[2] },
      size: { x: (o.size ?? [0.1, 0.1, 0.1])[0], y: (o.size ?? [0.1, 0.1, 0.1])[1], z: (o.size ?? [0.1, 0.1, 0.1])[2] },
    })),
  };
}

function decode(png: Buffer): PNG {
  return PNG.sync.read(png);
}

function pixel(p: PNG, u: number, v: number): [number, number, number] {
  const i = (Math.round(v) * p.width + Math.round(u)) * 4;
  return [p.data[i], p.data[i + 1], p.data[i + 2]];
}

const hex = (c: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) as [number, number, number];
const near = (a: readonly number[], b: readonly number[], tol: number) => a.every((x, i) => Math.abs(x - b[i]) <= tol);

describe("the frame figure", () => {
  it("draws each box's edges in its colour where the projection puts them, with a caption strip under the frame", async () => {
    // Optical frame as the spatial frame (identity): boxes in front of the camera, one each side.
    const s = scene([{ id: "a", center: [-0.15, 0.05, 1] }, { id: "b", center: [0.15, 0.05, 1], size: [0.12, 0.2, 0.12] }]);
    const fig = await drawFrameFigure({ image: grey(), intrinsics: K, perceived: { scene: s, rotation: IDENTITY }, caption: "test" });
    const p = decode(fig.png);
    expect([p.width, p.height]).toEqual([160, 120 + 26]);
    expect(fig.labels.map((l) => [l.id, l.text])).toEqual([["a", "red mug"], ["b", "red mug"]]);
    expect(fig.skipped).toBe(0);
    for (const [i, o] of s.objects.entries()) {
      const box = projectBox(o.center, o.size, IDENTITY, K)!;
      // The bottom edges (largest v) are below every label: their middles show the box's colour.
      const bottom = box.segments.filter(([, v0, , v1]) => v0 > box.center!.v && v1 > box.center!.v);
      let hits = 0;
      for (const [u0, v0, u1, v1] of bottom) if (near(pixel(p, (u0 + u1) / 2, (v0 + v1) / 2), hex(BOX_COLORS[i]), 60)) hits++;
      expect(hits, o.id).toBeGreaterThanOrEqual(2);
    }
    // Away from the boxes the frame is as it was.
    expect(pixel(p, 2, 100)).toEqual([90, 90, 90]);
    // The caption strip is white with text in it.
    let dark = 0;
    for (let u = 0; u < 160; u++) for (let v = 121; v < 146; v++) if (pixel(p, u, v)[0] < 128) dark++;
    expect(dark).toBeGreaterThan(20);
  });

  it("reads bgr8 and padded rows as rgb8", async () => {
    const rgb = grey(8, 6);
    for (let i = 0; i < rgb.data.length; i += 3) rgb.data.set([200, 100, 10], i);
    const bgr = { ...grey(8, 6, 8 * 3 + 5), encoding: "bgr8" };
    for (let v = 0; v < 6; v++) for (let u = 0; u < 8; u++) bgr.data.set([10, 100, 200], v * bgr.step + u * 3);
    const k = { width: 8, height: 6, fx: 8, fy: 8, cx: 3.5, cy: 2.5 };
    const a = decode((await drawFrameFigure({ image: rgb, intrinsics: k, perceived: null, caption: "" })).png);
    const b = decode((await drawFrameFigure({ image: bgr, intrinsics: k, perceived: null, caption: "" })).png);
    expect(pixel(a, 3, 3)).toEqual([200, 100, 10]);
    expect(Buffer.compare(a.data, b.data)).toBe(0);
  });

  it("skips and counts boxes it cannot draw, and cuts long names", async () => {
    const s = scene([
      { id: "nan", center: [Number.NaN, 0, 1] },
      { id: "behind", center: [0, 0, -2] },
      { id: "ok", center: [0, 0, 1] },
    ]);
    const long = { ...s, objects: s.objects.map((o) => (o.id === "ok" ? { ...o, kind: "x".repeat(5000) } : o)) };
    const fig = await drawFrameFigure({ image: grey(), intrinsics: K, perceived: { scene: long, rotation: IDENTITY }, truth: { scene: s, rotation: IDENTITY }, caption: "y".repeat(10_000) });
    expect(fig.skipped).toBe(4);
    expect(fig.labels).toHaveLength(1);
    expect(fig.labels[0].text.length).toBeLessThanOrEqual(40);
    expect(decode(fig.png).width).toBe(160);
  });

  it("refuses frames it cannot read, with typed errors", async () => {
    const bad = [
      [{ ...grey(), encoding: "16UC1" }, "bad_encoding"],
      [{ ...grey(), encoding: "<script>".repeat(100) }, "bad_encoding"],
      [{ ...grey(), data: new Uint8Array(10) }, "bad_image_step"],
      [{ ...grey(), step: 3 }, "bad_image_step"],
      [{ ...grey(), width: 0 }, "bad_image_size"],
      [{ ...grey(), height: Number.NaN }, "bad_image_size"],
      [{ ...grey(), width: 1e9 }, "bad_image_size"],
    ] as const;
    for (const [image, code] of bad) {
      const e = await drawFrameFigure({ image, intrinsics: K, perceived: null, caption: "" }).catch((x: unknown) => x);
      expect(e, code).toBeInstanceOf(InvalidInputError);
      expect((e as InvalidInputError).code).toBe(code);
      expect((e as Error).message.length).toBeLessThan(200);
    }
  });
});

describe("the reward figure", () => {
  it("draws episodes with gaps, non-finite values and a single frame", async () => {
    const points: RewardPoint[] = Array.from({ length: 120 }, (_, f) => ({
      frame: f,
      progress: f % 17 === 0 ? null : Math.min(1, f / 90),
      reward: f === 50 ? Number.NaN : -0.3 * (1 - Math.min(1, f / 90)),
      trueProgress: f === 60 ? Number.POSITIVE_INFINITY : Math.min(1, f / 88),
    }));
    for (const [pts, marks] of [
      [points, { success: 90, trueSuccess: 88, place: 100 }],
      [points.slice(0, 1), { success: -1, trueSuccess: -1, place: -1 }],
      [points.map((p) => ({ ...p, progress: null, reward: null, trueProgress: null })), { success: -1, trueSuccess: 3, place: 1e9 }],
    ] as const) {
      const p = decode(await drawRewardFigure(pts, marks, "<b>title</b>"));
      expect([p.width, p.height]).toEqual([900, 440]);
      let coloured = 0;
      for (let i = 0; i < p.data.length; i += 4) if (Math.abs(p.data[i] - p.data[i + 2]) > 60) coloured++;
      expect(coloured, "lines and legend in colour").toBeGreaterThan(100);
    }
  });
});

describe("the accuracy figure", () => {
  const score = (category: string, accuracy: number): TypeScore => ({ n: 10, category, accuracy, within_0_5x_2x: accuracy, within_10pct: accuracy / 2 });

  it("grows with the number of types and draws none when no question was asked", async () => {
    const few = decode(await drawAccuracyFigure({ left_of: score("qualitative", 0.9), distance: score("quantitative", 0.8) }, "t"));
    const many = decode(await drawAccuracyFigure(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`type_${i}`, score(i % 2 ? "choice" : "quantitative", i / 60)])), "t"));
    const none = decode(await drawAccuracyFigure({ left_of: { ...score("qualitative", Number.NaN), n: 0 } }, "t"));
    expect(few.width).toBe(900);
    expect(many.height).toBeGreaterThan(few.height + 60 * 20);
    expect(none.height).toBe(260);
  });

  it("draws a bar as long as the accuracy", async () => {
    const bars = async (acc: number) => {
      const p = decode(await drawAccuracyFigure({ left_of: score("qualitative", acc) }, "t"));
      // The blue bar's pixels (#1f77b4).
      let n = 0;
      for (let i = 0; i < p.data.length; i += 4) if (near([p.data[i], p.data[i + 1], p.data[i + 2]], [0x1f, 0x77, 0xb4], 8)) n++;
      return n;
    };
    const half = await bars(0.5), full = await bars(1);
    expect(full / half).toBeGreaterThan(1.6);
    expect(full / half).toBeLessThan(2.4);
  });
});

describe("the page", () => {
  const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)>'&`;

  it("escapes every text that comes from outside; its only script is its own", () => {
    const html = renderPage({
      title: hostile,
      subtitle: hostile,
      numbers: [[hostile, hostile]],
      figures: [{ file: "frame.png", caption: hostile, width: 10, height: 10 }],
      tables: [{ title: hostile, head: [hostile], rows: [[hostile, { text: hostile, swatch: "red;background:url(http://x)" }]] }],
      notes: [hostile],
    });
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("url(http");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).toContain('style="background:#000000"');
    expect(escapeHtml(`a<b>"c"&'d'`)).toBe("a&lt;b&gt;&quot;c&quot;&amp;&#39;d&#39;");
  });

  it("takes megabyte texts and deep nesting characters as text", () => {
    const big = "(".repeat(1_000_000) + "<".repeat(1000);
    const html = renderPage({ title: "t", subtitle: big, numbers: [], figures: [], tables: [], notes: [] });
    expect(html.length).toBeGreaterThan(1_000_000);
    expect(html).not.toMatch(/<</);
  });
});
