import { spawnSync } from "node:child_process";
import { runChild } from "../run_child.js";

/** Debian's interpreter (python3-torch is installed for it, not for a pyenv python3 first in PATH); overridable to test the skip. */
export const PYTHON = process.env.SPATIAL_REWARD_TORCH_PYTHON ?? "/usr/bin/python3";
/** CI sets SPATIAL_REWARD_REQUIRE_TORCH=1: there a missing PyTorch fails instead of skipping. */
export const TORCH_REQUIRED = process.env.SPATIAL_REWARD_REQUIRE_TORCH === "1";

/** PYTHON with these arguments as an async child (runChild: a training run must not block the test worker's event loop). */
export async function runPython(args: string[], timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runChild(PYTHON, args, { timeoutMs });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** Why PYTHON cannot run models/train/ ("" when it can: torch, PIL and numpy import). */
export function torchMissing(): string {
  const r = spawnSync(PYTHON, ["-c", "import torch, PIL, numpy"], { encoding: "utf8" });
  if (r.error) return `${PYTHON} not found (apt install python3-torch python3-pil python3-numpy)`;
  if (r.status !== 0) return `${PYTHON} cannot import torch, PIL and numpy (apt install python3-torch python3-pil python3-numpy)`;
  return "";
}
