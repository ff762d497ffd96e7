import { spawn } from "node:child_process";

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** SIGKILL after this long (code is then null). */
  timeoutMs: number;
}

/**
 * A child process waited for without blocking the test worker. A long spawnSync (an npm install,
 * a training run) stops the worker's event loop, and vitest's RPC then fails the whole run with
 * "Timeout calling onTaskUpdate" after 60 s even when every test passes.
 */
export function runChild(cmd: string, args: string[], o: ChildOptions): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d; });
    child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
