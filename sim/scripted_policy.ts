import { primitiveHeight } from "./shapes.js";
import type { SimAction, SimEnv, SimObservation } from "./sim_env.js";

/**
 * A scripted pick-and-place controller for SimEnv (what a teleoperator does): hover over the
 * object, descend, grip, lift clear, carry over the target, lower, release. Moves straight
 * toward each waypoint at the environment's 2 cm step limit.
 */
export class ScriptedPolicy {
  private phase = 0;

  constructor(private readonly env: SimEnv) {}

  act(obs: SimObservation): SimAction {
    const w = this.env.world;
    const i = w.objects.findIndex((o) => o.id === this.env.plan.object);
    const o = w.objects[i];
    const h = primitiveHeight(o.primitive);
    const t = this.env.plan.target;
    const p = obs.poses[i];
    // Carry just high enough to clear what lies along the way (a lower path stays in view).
    const along = w.objects.filter((x, j) => j !== i && distanceToSegment(x.pose.x, x.pose.y, p.x, p.y, t.x, t.y) < 0.15);
    const clearTop = Math.max(w.tableZ, ...along.map((x) => x.pose.z + primitiveHeight(x.primitive)));
    const carryZ = Math.max(clearTop + 0.06, w.tableZ + 0.12) + h;
    const waypoints = [
      { x: p.x, y: p.y, z: carryZ, grip: false },
      { x: p.x, y: p.y, z: p.z + h, grip: false },
      { x: p.x, y: p.y, z: p.z + h, grip: true },
      { x: obs.gripper.x, y: obs.gripper.y, z: carryZ, grip: true },
      { x: t.x, y: t.y, z: carryZ, grip: true },
      { x: t.x, y: t.y, z: t.z + h, grip: true },
      { x: t.x, y: t.y, z: t.z + h, grip: false },
    ];
    const wp = waypoints[Math.min(this.phase, waypoints.length - 1)];
    const g = obs.gripper;
    const dx = wp.x - g.x, dy = wp.y - g.y, dz = wp.z - g.z;
    if (Math.hypot(dx, dy, dz) < 0.002 && this.phase < waypoints.length - 1) this.phase++;
    return { dx, dy, dz, grip: wp.grip };
  }
}

function distanceToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2)) : 0;
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}
