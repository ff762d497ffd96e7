import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_NAME = "spatial-reward";

/**
 * This package's version, read at run time from its own package.json: the nearest one above
 * this file named "spatial-reward". Works from the sources (nodes/cli/), the build
 * (dist/nodes/cli/) and an install as a dependency (node_modules/spatial-reward/dist/...),
 * never picking up the package.json of a project that depends on it.
 */
export function packageVersion(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      if (pkg !== null && typeof pkg === "object" && (pkg as { name?: unknown }).name === PACKAGE_NAME) {
        const version = (pkg as { version?: unknown }).version;
        if (typeof version === "string") return version;
      }
    } catch {
      // No readable package.json here: keep looking upwards.
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package.json above ${from}`);
    dir = parent;
  }
}
