import type { ImageLike } from "../src/scene/image.js";
import { COLORS } from "../src/scene/colors.js";
import { project, type Camera } from "./camera.js";
import { intersectWorld, supportWorld, type Hit } from "./shapes.js";
import type { World } from "./world.js";

/** One rendered view. Buffers belong to the renderer and are overwritten by the next render. */
export interface RenderOutput {
  rgb: ImageLike;
  /** 32FC1 metres along the optical axis; 0 where nothing is within range. */
  depth: ImageLike;
  /** mono8 instance ids: object index + 1, 0 background. */
  mask: ImageLike;
  labels: Map<number, string>;
  /** Per object: pixels where it is front-most, and pixels its silhouette covers at all. */
  visiblePixels: Int32Array;
  silhouettePixels: Int32Array;
  /** Float32 view of `depth.data`. */
  depthMetres: Float32Array;
}

const TABLE_RGB = [186, 172, 150];
const FLOOR_RGB = [92, 90, 96];
const SKY_RGB = [205, 210, 218];
const MAX_RANGE = 6;
// Light from above and a little to the side; ambient keeps shadowed sides legible.
const LIGHT = (() => { const l = [0.35, 0.25, 1]; const n = Math.hypot(l[0], l[1], l[2]); return l.map((x) => x / n); })();
const AMBIENT = 0.4;
const DIFFUSE = 0.6;

const COLOR_RGB = new Map(COLORS.map((c) => [c.name, c.rgb]));

/**
 * Ray-casting RGB-D renderer for the tabletop world. Rays are cast per pixel through the
 * pinhole model with direction (x, y, 1) in the optical frame, so the hit parameter t is
 * directly the optical depth. Only objects whose projected bounds cover a row are tested.
 */
export class Renderer {
  private width = 0;
  private height = 0;
  private out: RenderOutput | null = null;
  private readonly hit: Hit = { t: 0, nx: 0, ny: 0, nz: 0 };

  render(world: World, cam: Camera): RenderOutput {
    const { width, height, fx, fy, cx, cy } = cam.intrinsics;
    const n = world.objects.length;
    if (n > 255) throw new Error("mono8 masks hold at most 255 objects");
    const out = this.buffers(width, height, n);
    const rgb = out.rgb.data, depth = out.depthMetres, mask = out.mask.data;
    out.labels.clear();
    world.objects.forEach((o, i) => out.labels.set(i + 1, o.kind));
    out.visiblePixels.fill(0);
    out.silhouettePixels.fill(0);

    // Projected bounds per object (from its world AABB corners).
    const u0 = new Int32Array(n), u1 = new Int32Array(n), v0 = new Int32Array(n), v1 = new Int32Array(n);
    world.objects.forEach((o, i) => {
      const xs = [-supportWorld(o.primitive, o.pose, -1, 0, 0), supportWorld(o.primitive, o.pose, 1, 0, 0)];
      const ys = [-supportWorld(o.primitive, o.pose, 0, -1, 0), supportWorld(o.primitive, o.pose, 0, 1, 0)];
      const zs = [-supportWorld(o.primitive, o.pose, 0, 0, -1), supportWorld(o.primitive, o.pose, 0, 0, 1)];
      let a = Infinity, b = -Infinity, c = Infinity, d = -Infinity, behind = false;
      for (const x of xs) for (const y of ys) for (const z of zs) {
        const p = project(cam, { x, y, z });
        if (p.depth <= 0.01) behind = true;
        a = Math.min(a, p.u); b = Math.max(b, p.u); c = Math.min(c, p.v); d = Math.max(d, p.v);
      }
      if (behind) { a = 0; b = width - 1; c = 0; d = height - 1; }
      u0[i] = Math.max(0, Math.floor(a) - 1); u1[i] = Math.min(width - 1, Math.ceil(b) + 1);
      v0[i] = Math.max(0, Math.floor(c) - 1); v1[i] = Math.min(height - 1, Math.ceil(d) + 1);
    });

    const P = cam.position, R = cam.right, D = cam.down, F = cam.forward;
    const rowObjects: number[] = [];
    const hit = this.hit;
    for (let v = 0; v < height; v++) {
      const oy = (v - cy) / fy;
      rowObjects.length = 0;
      for (let i = 0; i < n; i++) if (v >= v0[i] && v <= v1[i]) rowObjects.push(i);
      for (let u = 0; u < width; u++) {
        const ox = (u - cx) / fx;
        const dx = F.x + R.x * ox + D.x * oy;
        const dy = F.y + R.y * ox + D.y * oy;
        const dz = F.z + R.z * ox + D.z * oy;
        let best = MAX_RANGE, who = -1, nx = 0, ny = 0, nz = 1;
        for (const i of rowObjects) {
          if (u < u0[i] || u > u1[i]) continue;
          const o = world.objects[i];
          if (intersectWorld(o.primitive, o.pose, P.x, P.y, P.z, dx, dy, dz, hit)) {
            out.silhouettePixels[i]++;
            if (hit.t < best) { best = hit.t; who = i; nx = hit.nx; ny = hit.ny; nz = hit.nz; }
          }
        }
        let base: readonly number[] = SKY_RGB;
        let shade = 1;
        const idx = v * width + u;
        if (who >= 0) {
          base = COLOR_RGB.get(world.objects[who].color) ?? SKY_RGB;
          shade = AMBIENT + DIFFUSE * Math.max(0, nx * LIGHT[0] + ny * LIGHT[1] + nz * LIGHT[2]);
          out.visiblePixels[who]++;
          mask[idx] = who + 1;
          depth[idx] = best;
        } else {
          mask[idx] = 0;
          depth[idx] = 0;
          if (dz < 0) {
            const tTable = (world.tableZ - P.z) / dz;
            const hx = P.x + tTable * dx, hy = P.y + tTable * dy;
            if (tTable < MAX_RANGE && Math.abs(hx) <= world.tableHalfX && Math.abs(hy) <= world.tableHalfY) {
              depth[idx] = tTable;
              base = TABLE_RGB;
              shade = AMBIENT + DIFFUSE * LIGHT[2];
            } else {
              const tFloor = -P.z / dz;
              if (tFloor < MAX_RANGE) {
                depth[idx] = tFloor;
                base = FLOOR_RGB;
                shade = AMBIENT + DIFFUSE * LIGHT[2];
              }
            }
          }
        }
        const k = idx * 3;
        rgb[k] = Math.min(255, base[0] * shade);
        rgb[k + 1] = Math.min(255, base[1] * shade);
        rgb[k + 2] = Math.min(255, base[2] * shade);
      }
    }
    return out;
  }

  private buffers(width: number, height: number, n: number): RenderOutput {
    if (this.out && this.width === width && this.height === height && this.out.visiblePixels.length === n) return this.out;
    const depthMetres = this.out && this.width === width && this.height === height ? this.out.depthMetres : new Float32Array(width * height);
    const prev = this.out && this.width === width && this.height === height ? this.out : null;
    this.width = width;
    this.height = height;
    this.out = {
      rgb: prev?.rgb ?? { width, height, encoding: "rgb8", step: width * 3, data: new Uint8Array(width * height * 3) },
      depth: prev?.depth ?? { width, height, encoding: "32FC1", step: width * 4, data: new Uint8Array(depthMetres.buffer) },
      mask: prev?.mask ?? { width, height, encoding: "mono8", step: width, data: new Uint8Array(width * height) },
      labels: new Map(),
      visiblePixels: new Int32Array(n),
      silhouettePixels: new Int32Array(n),
      depthMetres,
    };
    return this.out;
  }
}
