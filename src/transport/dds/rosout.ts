import type { rcl_interfaces__msg__Log } from "../../msgs/generated.js";
import { LogConstants } from "../../msgs/generated.js";
import type { LogLevel, LogRecord } from "../logger.js";
import type { QoS } from "../qos.js";

/** rcl's ROSOUT_TOPIC_NAME. */
export const ROSOUT_TOPIC = "/rosout";
export const ROSOUT_TYPE = "rcl_interfaces/msg/Log";

/**
 * rcl_qos_profile_rosout_default (rcl/include/rcl/logging_rosout.h, Humble to Rolling): reliable,
 * transient local, keep last 1000, lifespan 10 s, so a late `ros2 topic echo /rosout` or
 * rqt_console sees the last ten seconds of logs.
 */
export const QOS_ROSOUT: QoS & { readonly lifespanMs: number } = {
  reliability: "reliable",
  durability: "transient_local",
  history: "keep_last",
  depth: 1000,
  lifespanMs: 10_000,
};

const LEVEL: Readonly<Record<LogLevel, number>> = {
  debug: LogConstants.DEBUG,
  info: LogConstants.INFO,
  warn: LogConstants.WARN,
  error: LogConstants.ERROR,
  fatal: LogConstants.FATAL,
};

/** A log record as rcl publishes it (rcl_logging_rosout_output_handler); no source location here. */
export function rosoutMessage(record: LogRecord): rcl_interfaces__msg__Log {
  const sec = record.timeNs / 1_000_000_000n;
  return {
    stamp: { sec: Number(sec), nanosec: Number(record.timeNs - sec * 1_000_000_000n) },
    level: LEVEL[record.level],
    name: record.name,
    msg: record.message,
    file: "",
    function: "",
    line: 0,
  };
}
