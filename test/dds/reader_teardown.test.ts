import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ddsAddonPath } from "../../src/transport/dds/native_binding.js";
import { runChild } from "../run_child.js";
import { DDS_AVAILABLE, LOOPBACK_CONFIG } from "./dds_env.js";

// A domain of its own, so parallel test files never see each other's traffic.
const DOMAIN = 65;
const here = fileURLToPath(new URL(".", import.meta.url));

const child = (mode: "end" | "throw", nodeFlags: string[] = []) =>
  runChild(process.execPath, [...nodeFlags, join(here, "reader_teardown_child.mjs"), ddsAddonPath()!, String(DOMAIN), readFileSync(LOOPBACK_CONFIG, "utf8"), mode], {
    timeoutMs: 30_000,
  });

describe.runIf(DDS_AVAILABLE)("a reader's delivery that cannot reach JS (bare binding, child processes)", () => {
  it("a process whose event loop ends with a delivery queued exits normally (it aborted: a C++ exception left the delivery at teardown)", async () => {
    const r = await child("end");
    expect(r.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/script ended after 0 calls/);
  });

  it("an exception thrown by the reader's callback still reaches Node as an uncaught exception", async () => {
    // Node's strict policy for exceptions from N-API callbacks: the process fails, naming the error.
    const strict = await child("throw", ["--force-node-api-uncaught-exceptions-policy=true"]);
    expect(strict.stderr).toMatch(/reader callback failed on purpose/);
    expect(strict.stderr).not.toMatch(/terminate called/);
    expect(strict.code).toBe(1);
    // The default (legacy) policy warns and keeps the process running.
    const legacy = await child("throw");
    expect(legacy.code, legacy.stderr).toBe(0);
    expect(legacy.stdout).toMatch(/alive after 1 calls/);
    expect(legacy.stderr).toMatch(/DEP0168/);
  });
});
