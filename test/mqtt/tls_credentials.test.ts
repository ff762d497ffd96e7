import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Aedes } from "aedes";
import { connect } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT } from "../../src/transport/qos.js";
import type { ParameterValue } from "../../src/transport/parameters.js";
import { encodeMocapFrame } from "../../src/mocap/mocap_codec.js";
import { MocapIngestNode } from "../../nodes/mocap_ingest_node.js";
import { DIAGNOSTIC_LEVEL } from "../../nodes/diagnostics_publisher.js";
import { makeFrame, waitFor } from "./mqtt_fixtures.js";

/**
 * mocap_ingest's TLS and credential parameters against a real mqtts:// broker: aedes behind a
 * node:tls server on 127.0.0.1 with a self-signed certificate (made here with openssl), which
 * demands a client certificate (mutual TLS) and a username/password. Right settings: frames
 * flow. Wrong password: ERROR on /diagnostics, counted, retried. Untrusted server certificate:
 * counted, never connected, unless tls_reject_unauthorized is false.
 */
const OPENSSL_MISSING = spawnSync("openssl", ["version"], { encoding: "utf8" }).status === 0 ? "" : "openssl not found";

describe.skipIf(OPENSSL_MISSING !== "")(`mocap_ingest over mqtts:// with credentials${OPENSSL_MISSING ? ` (skipped: ${OPENSSL_MISSING})` : ""}`, () => {
  let dir = "";
  let server: Server;
  let aedes: Aedes;
  let url = "";
  let cert = "";
  let key = "";
  const ingests: { ingest: MocapIngestNode; transport: InprocTransport }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sr-tls-"));
    key = join(dir, "key.pem");
    cert = join(dir, "cert.pem");
    const r = spawnSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
      "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
    aedes = await Aedes.createBroker();
    aedes.authenticate = (_client, username, password, done) => {
      const ok = username === "operator" && password?.toString() === "s3cret";
      if (ok) done(null, true);
      else done(Object.assign(new Error("bad credentials"), { returnCode: 4 }), false);
    };
    // Mutual TLS: the client must present a certificate this CA (the same self-signed one) signed.
    server = createServer({ key: readFileSync(key), cert: readFileSync(cert), ca: readFileSync(cert), requestCert: true, rejectUnauthorized: true }, aedes.handle);
    server.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const a = server.address();
    url = `mqtts://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
  });

  afterAll(async () => {
    for (const { ingest, transport } of ingests) {
      await ingest.close();
      await transport.shutdown();
    }
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  function ingestWith(params: Record<string, ParameterValue>): MocapIngestNode {
    const transport = new InprocTransport();
    transport.logSinks = [];
    const ingest = new MocapIngestNode(transport.createNode("mocap_ingest", {
      parameterOverrides: { diagnostics_period_ms: 0, broker: url, reconnect_min_ms: 20, reconnect_max_ms: 100, ...params },
    }));
    ingests.push({ ingest, transport });
    return ingest;
  }

  const good = () => ({ tls_ca_file: cert, tls_cert_file: cert, tls_key_file: key, username: "operator", password: "s3cret" });

  it("connects with the CA, client certificate and credentials, and frames flow", async () => {
    const ingest = ingestWith({ ...good(), client_id: "tls-good" });
    const frames: unknown[] = [];
    const probe = ingests[ingests.length - 1].transport.createNode("probe");
    probe.createSubscription("spatial_reward_msgs/msg/MocapFrame", "mocap/s1/frame", QOS_DEFAULT, (m) => frames.push(m));
    await ingest.start();
    await ingest.subscribed();
    const pub = connect(url, { ca: readFileSync(cert), cert: readFileSync(cert), key: readFileSync(key), username: "operator", password: "s3cret", clientId: "tls-pub", reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      pub.once("connect", () => resolve());
      pub.once("error", reject);
    });
    for (let n = 0; n < 5; n++) {
      await new Promise<void>((resolve, reject) => pub.publish("mocap/s1/frame", Buffer.from(encodeMocapFrame(makeFrame("s1", BigInt(n), 1_000_000_000n + BigInt(n) * 4_166_667n))), { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    }
    expect(await waitFor(() => frames.length === 5, 5000)).toBe(true);
    pub.end(true);
    expect(ingest.linkStatus().connected).toBe(true);
    expect(ingest.diagnostics.snapshot().status[0].level).toBe(DIAGNOSTIC_LEVEL.OK);
  });

  it("a wrong password is refused: ERROR on /diagnostics, counted, retried with backoff", async () => {
    const ingest = ingestWith({ ...good(), password: "wrong", client_id: "tls-badpw" });
    await ingest.start();
    expect(await waitFor(() => ingest.counters.get("mqtt.connect_refused") >= 3, 10_000)).toBe(true);
    expect(ingest.linkStatus().connected).toBe(false);
    const s = ingest.diagnostics.snapshot().status[0];
    expect(s.level).toBe(DIAGNOSTIC_LEVEL.ERROR);
    expect(s.message).toMatch(/refused the connection/);
  });

  it("an untrusted server certificate never connects, unless tls_reject_unauthorized is false", async () => {
    const strict = ingestWith({ ...good(), tls_ca_file: "", client_id: "tls-noca" });
    await strict.start();
    expect(await waitFor(() => strict.counters.get("mqtt.connection_errors") >= 2, 10_000)).toBe(true);
    expect(strict.linkStatus().connects).toBe(0);
    expect(strict.diagnostics.snapshot().status[0].level).toBe(DIAGNOSTIC_LEVEL.WARN);

    const lax = ingestWith({ ...good(), tls_ca_file: "", tls_reject_unauthorized: false, client_id: "tls-lax" });
    await lax.start();
    await lax.subscribed();
    expect(lax.linkStatus().connected).toBe(true);
  });

  it("without the client certificate the server ends the handshake", async () => {
    const ingest = ingestWith({ ...good(), tls_cert_file: "", tls_key_file: "", client_id: "tls-nocert" });
    await ingest.start();
    expect(await waitFor(() => ingest.counters.get("mqtt.connection_errors") + ingest.linkStatus().attempts >= 3, 10_000)).toBe(true);
    expect(ingest.linkStatus().connects).toBe(0);
  });
});
