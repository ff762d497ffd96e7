import type { Pose, Primitive } from "./shapes.js";

/** One object in the simulated world. */
export interface SimObject {
  /** "mug#1": kind and index among objects of that kind. */
  id: string;
  kind: string;
  color: string;
  primitive: Primitive;
  pose: Pose;
}

/** The tabletop world: a table top (horizontal rectangle) above a floor at z = 0. */
export interface World {
  tableZ: number;
  /** Table extends over |x| ≤ tableHalfX, |y| ≤ tableHalfY (world). */
  tableHalfX: number;
  tableHalfY: number;
  objects: SimObject[];
}

/** Deep copy of the object poses (the mutable part of a world). */
export function clonePoses(objects: readonly SimObject[]): Pose[] {
  return objects.map((o) => ({ ...o.pose }));
}
