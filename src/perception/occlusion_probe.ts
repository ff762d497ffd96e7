import type { PinholeIntrinsics } from "../geometry/intrinsics.js";
import type { SceneObject } from "../scene/scene_object.js";
import type { DepthView } from "./image_views.js";

/**
 * Whether a box is behind something nearer in this frame: its centre and top centre project
 * onto pixels whose depth reads markedly (3 cm) nearer than they are (an occluder), for the
 * tracker to keep showing an object it lost for a frame or two. Holds the frame's depth,
 * intrinsics and spatial rotation between set() and clear() (the tracking stage only).
 */
export class OcclusionProbe {
  private depth: DepthView | null = null;
  private k: PinholeIntrinsics | null = null;
  private R: Float64Array | null = null;
  private minDepth = 0;

  set(depth: DepthView, k: PinholeIntrinsics, rotation: Float64Array, minDepth: number): void {
    this.depth = depth;
    this.k = k;
    this.R = rotation;
    this.minDepth = minDepth;
  }

  clear(): void {
    this.depth = null;
  }

  /** One closure for the probe's life: nothing allocated per frame. */
  readonly hidden = (o: SceneObject): boolean => {
    const depth = this.depth, k = this.k, R = this.R;
    if (!depth || !k || !R) return false;
    for (let end = 0; end < 2; end++) {
      const x = o.center.x, y = o.center.y, z = o.center.z + end * o.size.z / 2;
      // Spatial → optical: the rotation's transpose.
      const cx = R[0] * x + R[3] * y + R[6] * z, cy = R[1] * x + R[4] * y + R[7] * z, cz = R[2] * x + R[5] * y + R[8] * z;
      if (!(cz > 0)) return false;
      const u = Math.round(k.cx + (k.fx * cx) / cz), v = Math.round(k.cy + (k.fy * cy) / cz);
      if (u < 0 || v < 0 || u >= k.width || v >= k.height) return false;
      const reading = depth.data[v * depth.stride + u] * depth.scale;
      if (!(reading > this.minDepth && reading < cz - 0.03)) return false;
    }
    return true;
  };
}
