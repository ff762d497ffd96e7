import { describe, expect, it } from "vitest";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { formatLogRecord, loggerName, parseLogLevel, type LogRecord } from "../../src/transport/logger.js";

describe("node loggers", () => {
  it("write rcutils-style lines at or above the node's level to the transport's sinks", () => {
    const t = new InprocTransport();
    const records: LogRecord[] = [];
    t.logSinks = [(r) => records.push(r)];
    const n = t.createNode("perception", { namespace: "/cam0", logLevel: "warn" });
    n.logger.info("not shown");
    n.logger.warn("camera_info missing");
    n.logger.error("bad frame");
    expect(records.map((r) => [r.level, r.name, r.message])).toEqual([
      ["warn", "cam0.perception", "camera_info missing"],
      ["error", "cam0.perception", "bad frame"],
    ]);
    expect(formatLogRecord({ level: "error", name: "cam0.perception", message: "bad frame", timeNs: 1_700_000_000_000_000_123n }))
      .toBe("[ERROR] [1700000000.000000123] [cam0.perception]: bad frame");
    expect(t.createNode("reward").logger.level).toBe("info");
  });

  it("survive a sink that throws, and refuse unknown levels", () => {
    const t = new InprocTransport();
    const seen: string[] = [];
    t.logSinks = [() => { throw new Error("stderr closed"); }, (r) => seen.push(r.message)];
    t.createNode("n").logger.error("still logged");
    expect(seen).toEqual(["still logged"]);
    expect(parseLogLevel("WARNING")).toBe("warn");
    expect(() => parseLogLevel("verbose")).toThrow(/unknown log level/);
    expect(loggerName("/")).toBe("");
    expect(loggerName("/a/b/perception")).toBe("a.b.perception");
  });
});
