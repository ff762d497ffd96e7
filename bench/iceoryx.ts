import { spawnSync } from "node:child_process";

/**
 * RouDi, iceoryx's daemon, which Cyclone DDS's shared memory needs on the host (Debian package
 * iceoryx: iox-roudi). Used by bench:dds --transport shm and test/interop/cyclone_shm.
 */
export function roudiAvailable(): boolean {
  return spawnSync("bash", ["-c", "command -v iox-roudi"], { stdio: "ignore" }).status === 0;
}

/**
 * Bash lines that start RouDi with `config` for the rest of a script and stop it when the script
 * exits. One RouDi at a time on a host: its shared memory (/dev/shm) and socket (/tmp/roudi) are
 * the host's, not the network namespace's, so a second one would take them over; a lock file makes
 * scripts wait for each other.
 */
export function roudiPrelude(config: string, log: string): string {
  return [
    "exec 9>/tmp/spatial-reward-iceoryx.lock",
    "flock 9",
    `iox-roudi -c ${config} > ${log} 2>&1 & SR_ROUDI=$!`,
    "trap 'kill -TERM $SR_ROUDI 2>/dev/null; wait $SR_ROUDI 2>/dev/null' EXIT",
    `for i in $(seq 200); do grep -q "RouDi is ready" ${log} && break; sleep 0.05; done`,
    `grep -q "RouDi is ready" ${log} || { echo "iox-roudi did not start:"; cat ${log}; exit 1; } >&2`,
  ].join("\n");
}
