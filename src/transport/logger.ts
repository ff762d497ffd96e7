import { InvalidInputError } from "../errors.js";

/** rcutils severities, lowest first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "fatal"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/** "DEBUG", "warning" and "WARN" are what rcl accepts for --log-level; all map to LogLevel. */
export function parseLogLevel(text: string): LogLevel {
  const s = text.trim().toLowerCase();
  const level = s === "warning" ? "warn" : s;
  if (!isLogLevel(level)) {
    throw new InvalidInputError("bad_argument", `unknown log level "${text}" (one of ${LOG_LEVELS.join(", ")})`);
  }
  return level;
}

export interface LogRecord {
  level: LogLevel;
  /** Logger name as rcl forms it: the node's namespace and name joined by dots ("cam0.perception"). */
  name: string;
  message: string;
  /** Wall time, nanoseconds since the epoch. */
  timeNs: bigint;
}

/** Where records go: stderr by default; rosout and tests plug in their own. */
export type LogSink = (record: LogRecord) => void;

/** A node's logger, after rclcpp's RCLCPP_<LEVEL> and rclnodejs's Logging. */
export interface Logger {
  readonly name: string;
  level: LogLevel;
  enabled(level: LogLevel): boolean;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  fatal(message: string): void;
}

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

/** rcutils' default console format: `[LEVEL] [sec.nanosec] [name]: message`. */
export function formatLogRecord(r: LogRecord): string {
  const sec = r.timeNs / 1_000_000_000n;
  const ns = String(r.timeNs - sec * 1_000_000_000n).padStart(9, "0");
  return `[${r.level.toUpperCase()}] [${sec}.${ns}] [${r.name}]: ${r.message}`;
}

export const stderrSink: LogSink = (r) => {
  process.stderr.write(`${formatLogRecord(r)}\n`);
};

/** The logger name rcl gives a node: "/cam0/perception" → "cam0.perception". */
export function loggerName(fullyQualifiedNodeName: string): string {
  return fullyQualifiedNodeName.replace(/^\/+/, "").replace(/\//g, ".");
}

/** A logger writing records at or above its level to the sinks it was given. */
export class SinkLogger implements Logger {
  constructor(
    readonly name: string,
    public level: LogLevel,
    private readonly sinks: readonly LogSink[],
  ) {}

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  private log(level: LogLevel, message: string): void {
    if (!this.enabled(level)) return;
    const record: LogRecord = { level, name: this.name, message, timeNs: BigInt(Date.now()) * 1_000_000n };
    for (const sink of this.sinks) {
      try {
        sink(record);
      } catch {
        // A broken sink (closed stderr, a failing rosout publisher) must never take the node down.
      }
    }
  }

  debug(message: string): void { this.log("debug", message); }
  info(message: string): void { this.log("info", message); }
  warn(message: string): void { this.log("warn", message); }
  error(message: string): void { this.log("error", message); }
  fatal(message: string): void { this.log("fatal", message); }
}
