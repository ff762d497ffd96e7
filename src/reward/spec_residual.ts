import type { Scene } from "../scene/scene_object.js";
import { resolveObject } from "../spatial/object_resolver.js";
import type { RewardSpec } from "./reward_spec.js";
import { leafResidual, lowestBottom } from "./spec_geometry.js";
import { validateRewardSpec } from "./reward_spec_validation.js";

/**
 * A spec's residual on one scene, resolving every phrase afresh: for one-off checks and
 * tests. Per-frame use belongs to RewardTracker, which caches the resolution. `all` sums
 * its terms' residuals, `any` takes the smallest. The spec is validated first, which bounds the
 * recursion (spec_limits.ts).
 */
export function specResidual(spec: RewardSpec, scene: Scene): number {
  validateRewardSpec(spec);
  return residual(spec, scene);
}

function residual(spec: RewardSpec, scene: Scene): number {
  switch (spec.op) {
    case "all": {
      let sum = 0;
      for (const t of spec.terms) sum += residual(t, scene);
      return sum;
    }
    case "any": {
      let min = Infinity;
      for (const t of spec.terms) min = Math.min(min, residual(t, scene));
      return min;
    }
    case "lift": {
      const a = resolveObject(scene.objects, spec.a);
      return leafResidual(spec, a, a, scene.supportZ ?? lowestBottom(scene.objects));
    }
    default: {
      const a = resolveObject(scene.objects, spec.a);
      const b = resolveObject(scene.objects, spec.b);
      return leafResidual(spec, a, b, 0);
    }
  }
}
