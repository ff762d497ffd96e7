import { intrinsicsFromFov } from "../../src/geometry/intrinsics.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";

/**
 * A minimal hand-built frame for input-validation tests (the simulator covers realism):
 * a camera 1 m above a table looking down 45°, with one upright 10 cm cube of instance id 1
 * about 1 m ahead. Depth by exact ray casting of the plane and the cube's top and front faces.
 */
export function syntheticFrame(width = 160, height = 120): RgbdFrame {
  const k = intrinsicsFromFov(width, height, 69);
  const pitch = Math.PI / 4;
  const cp = Math.cos(pitch), sp = Math.sin(pitch);
  const depth = new Float32Array(width * height);
  const mask = new Uint8Array(width * height);
  const rgb = new Uint8Array(width * height * 3);
  const camH = 1.0;
  // World: z up, camera at (0,0,camH) looking along +x tilted down. Optical (x right, y down, z fwd).
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const ox = (u - k.cx) / k.fx, oy = (v - k.cy) / k.fy;
      // optical → world: fwd = (cp, 0, -sp), right = (0, -1, 0), down = (-sp, 0, -cp)
      const dx = cp * 1 + -sp * oy, dy = -ox, dz = -sp * 1 + -cp * oy;
      let t = Infinity, hit = 0;
      if (dz < 0) t = -camH / dz;
      // Cube [0.95,1.05] x [-0.05,0.05] x [0,0.1] (world, table at z=0 relative to camera base).
      const cubeT = rayBox(0, 0, camH, dx, dy, dz, [0.95, -0.05, 0], [1.05, 0.05, 0.1]);
      if (cubeT < t) { t = cubeT; hit = 1; }
      const i = v * width + u;
      if (!Number.isFinite(t)) continue;
      depth[i] = t; // optical z of direction (ox, oy, 1) scaled by t equals t
      mask[i] = hit;
      const c = hit ? [200, 30, 35] : [180, 170, 150];
      rgb.set(c, i * 3);
    }
  }
  return {
    stamp: 1_000_000_000n,
    intrinsics: k,
    rgb: { width, height, encoding: "rgb8", step: width * 3, data: rgb },
    depth: { width, height, encoding: "32FC1", step: width * 4, data: new Uint8Array(depth.buffer) },
    instances: { image: { width, height, encoding: "mono8", step: width, data: mask }, labels: new Map([[1, "cube"]]) },
  };
}

function rayBox(ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, lo: number[], hi: number[]): number {
  let t0 = -Infinity, t1 = Infinity;
  const o = [ox, oy, oz], d = [dx, dy, dz];
  for (let a = 0; a < 3; a++) {
    if (Math.abs(d[a]) < 1e-12) {
      if (o[a] < lo[a] || o[a] > hi[a]) return Infinity;
      continue;
    }
    let ta = (lo[a] - o[a]) / d[a], tb = (hi[a] - o[a]) / d[a];
    if (ta > tb) [ta, tb] = [tb, ta];
    t0 = Math.max(t0, ta);
    t1 = Math.min(t1, tb);
  }
  return t0 <= t1 && t0 > 0 ? t0 : Infinity;
}
