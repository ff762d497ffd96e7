import { spawn, spawnSync } from "node:child_process";

/**
 * Used by the DDS benchmarks and interop tests. Runs a bash script inside a private network namespace whose only interface is loopback with
 * multicast on, so DDS discovery works and no packet can leave (the namespace ends with the
 * script). Needs root (CI and this machine run as root).
 */
export const NETNS_PRELUDE = [
  "set -e",
  "ip link set lo up",
  "ip link set lo multicast on",
  "ip route add 224.0.0.0/4 dev lo",
  "set +e",
].join("\n");

export function netnsAvailable(): boolean {
  const r = spawnSync("unshare", ["--net", "true"], { stdio: "ignore" });
  return r.status === 0;
}

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `onLine` sees each stdout line as it comes (e.g. a PID to sample while the script runs). */
export function runInNetns(script: string, timeoutMs: number, env: NodeJS.ProcessEnv = {}, onLine?: (line: string) => void): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("unshare", ["--net", "bash", "-c", `${NETNS_PRELUDE}\n${script}`], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let partial = "";
    child.stdout.on("data", (c: Buffer) => {
      const text = c.toString();
      stdout += text;
      if (!onLine) return;
      partial += text;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) onLine(l);
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`namespace script timed out after ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
