import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { SpatialRewardError } from "../../src/errors.js";

/** Debian's mosquitto (apt install mosquitto). */
export const MOSQUITTO_PATH = "/usr/sbin/mosquitto";

/** Why mosquitto cannot run here, or "" when it can. */
export function mosquittoMissing(path = MOSQUITTO_PATH): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return `${path} not found (apt install mosquitto)`;
  }
  const r = spawnSync(path, ["-h"], { encoding: "utf8", timeout: 5000 });
  if (!/mosquitto version/.test(`${r.stdout}${r.stderr}`)) return `${path} -h did not print a mosquitto version`;
  return "";
}

/** A free TCP port on 127.0.0.1 (bound and released: another process could take it in between, rarely). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: "127.0.0.1", port });
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

export interface MosquittoOptions {
  /** Port on 127.0.0.1; 0 (default) = a free ephemeral port. Kept across restart(). */
  port?: number;
  /**
   * Queued QoS 1 messages per offline persistent client. mosquitto's default is 1000, about 4 s
   * of a 240 Hz stream: an outage longer than that would lose frames at the broker. Default 1e6.
   */
  maxQueuedMessages?: number;
  path?: string;
}

/**
 * A Mosquitto broker on 127.0.0.1 with a generated config: one listener, anonymous clients,
 * persistence (sessions, subscriptions and queued QoS 1 messages) in a temporary directory,
 * written when the broker stops. restart() stops it with SIGTERM (so it saves its database) and
 * starts it again on the same port with the same directory: persistent sessions survive.
 * stop() ends it and removes the directory.
 */
export class MosquittoBroker {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stderr = "";

  private constructor(readonly port: number, readonly dir: string, private readonly path: string) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** The running broker's process id (undefined while halted). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The broker's log file (log_dest file). */
  get logFile(): string {
    return join(this.dir, "mosquitto.log");
  }

  /** Starts mosquitto and waits until it accepts connections (SpatialRewardError "backend_unavailable" if it does not). */
  static async start(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
    const path = options.path ?? MOSQUITTO_PATH;
    const missing = mosquittoMissing(path);
    if (missing !== "") throw new SpatialRewardError("backend_unavailable", `cannot start mosquitto: ${missing}`);
    const port = options.port || (await freeLoopbackPort());
    const dir = mkdtempSync(join(tmpdir(), "sr-mosquitto-"));
    const lines = [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence true",
      `persistence_location ${dir}/`,
      "persistence_file mosquitto.db",
      `max_queued_messages ${options.maxQueuedMessages ?? 1_000_000}`,
      `log_dest file ${join(dir, "mosquitto.log")}`,
      "log_type error",
      "log_type warning",
      "log_type notice",
      "log_type information",
      "connection_messages true",
    ];
    // Started as root, mosquitto drops to the user "mosquitto", which could not write the
    // temporary directory: stay the user we are.
    if (process.getuid?.() === 0) lines.push(`user ${userInfo().username}`);
    writeFileSync(join(dir, "mosquitto.conf"), `${lines.join("\n")}\n`);
    const broker = new MosquittoBroker(port, dir, path);
    try {
      await broker.launch();
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return broker;
  }

  private async launch(): Promise<void> {
    this.stderr = "";
    const child = spawn(this.path, ["-c", join(this.dir, "mosquitto.conf")], { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    child.stderr?.on("data", (d: Buffer) => {
      if (this.stderr.length < 10_000) this.stderr += d.toString();
    });
    this.exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    let dead = false;
    void this.exited.then(() => (dead = true));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (dead) break;
      if (await canConnect(this.port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill("SIGKILL");
    await this.exited;
    this.child = null;
    throw new SpatialRewardError("backend_unavailable", `mosquitto did not accept connections on 127.0.0.1:${this.port}: ${this.stderr.trim() || this.log().slice(-2000)}`);
  }

  /** The broker's log so far. */
  log(): string {
    try {
      return readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** SIGTERM (mosquitto writes its persistence database) and wait for the exit. */
  async halt(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill("SIGTERM");
    const timeout = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(timeout);
    this.child = null;
  }

  /** Starts it again after halt(), on the same port and persistence directory. */
  async resume(): Promise<void> {
    if (this.child) return;
    await this.launch();
  }

  /** halt() then resume(): a broker restart with its persistent sessions kept. */
  async restart(): Promise<void> {
    await this.halt();
    await this.resume();
  }

  /** Stops the broker and removes its directory. */
  async stop(): Promise<void> {
    await this.halt();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
