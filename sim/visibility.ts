import type { Camera } from "./camera.js";
import { Renderer, type RenderOutput } from "./renderer.js";
import type { World } from "./world.js";

/** How much of one object the camera sees. */
export interface ObjectVisibility {
  id: string;
  /** Pixels where the object is front-most in the image. */
  visiblePixels: number;
  /** Pixels of the object's silhouette inside the image (occluded or not). */
  silhouettePixels: number;
  /** Estimated pixels of the whole silhouette, inside the image or not (≥ silhouettePixels). */
  fullSilhouettePixels: number;
  /** Share of the whole silhouette that is inside the image: below 1, the image border cuts it. */
  inImageFraction: number;
  /** Share of the in-image silhouette hidden behind other objects. */
  occludedFraction: number;
  /** Share of the whole silhouette the camera sees: in the image and in front. */
  visibleFraction: number;
}

/**
 * Per-object visibility of a render: occlusion from its own counts; the part beyond the image
 * border from two renders at half resolution on one pixel grid, one of an image plane extended
 * by about half the image on every side (same optical centre and axes), one of the image
 * itself: the ratio of their silhouette counts is the share in the image (exactly 1 for an
 * object wholly inside). An object reaching past even the extension is estimated from what
 * the extension holds (its share in the image is then overestimated, never under).
 */
export class VisibilityMeter {
  private readonly wideRenderer = new Renderer();
  private readonly innerRenderer = new Renderer();

  measure(world: World, camera: Camera, render: RenderOutput): ObjectVisibility[] {
    const k = camera.intrinsics;
    // Even margins keep the image's half-resolution pixels on the extended grid's.
    const mx = 2 * Math.ceil(k.width / 4), my = 2 * Math.ceil(k.height / 4);
    // A full-resolution pixel centre u lies at (u + 0.5) / 2 − 0.5 at half resolution.
    const cx = (k.cx + 0.5) / 2 - 0.5, cy = (k.cy + 0.5) / 2 - 0.5;
    const half = { ...k, fx: k.fx / 2, fy: k.fy / 2 };
    const inner: Camera = { ...camera, intrinsics: { ...half, width: Math.ceil(k.width / 2), height: Math.ceil(k.height / 2), cx, cy } };
    const wide: Camera = {
      ...camera,
      intrinsics: { ...half, width: Math.ceil(k.width / 2) + mx, height: Math.ceil(k.height / 2) + my, cx: cx + mx / 2, cy: cy + my / 2 },
    };
    const w = this.wideRenderer.render(world, wide).silhouettePixels;
    const n = this.innerRenderer.render(world, inner).silhouettePixels;
    return world.objects.map((o, i) => {
      const visible = render.visiblePixels[i], inImage = render.silhouettePixels[i];
      const inImageFraction = w[i] > 0 ? Math.min(1, n[i] / w[i]) : inImage > 0 ? 1 : 0;
      const occludedFraction = inImage > 0 ? 1 - visible / inImage : 1;
      return {
        id: o.id,
        visiblePixels: visible,
        silhouettePixels: inImage,
        fullSilhouettePixels: inImageFraction > 0 ? Math.max(inImage, Math.round(inImage / inImageFraction)) : 4 * w[i],
        inImageFraction,
        occludedFraction,
        visibleFraction: inImageFraction * (1 - occludedFraction),
      };
    });
  }
}
