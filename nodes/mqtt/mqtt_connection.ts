import { readFileSync } from "node:fs";
import { connect, type IClientOptions, type MqttClient } from "mqtt";
import { InvalidInputError } from "../../src/errors.js";
import { applyBackoff, ReconnectBackoff, type BackoffOptions } from "./reconnect_backoff.js";

/** TLS settings for mqtts:// brokers (file paths; "" = not given). */
export interface MqttTlsSettings {
  /** CA certificate(s) to trust instead of the system's (PEM). */
  caFile: string;
  /** Client certificate for mutual TLS (PEM); needs keyFile. */
  certFile: string;
  keyFile: string;
  /** false accepts any server certificate (self-signed test brokers only). */
  rejectUnauthorized: boolean;
}

/** How a spatial-reward MQTT client connects: the ingest node and the mocap publisher share this. */
export interface MqttConnectionSettings {
  /** mqtt://host[:port] or mqtts://host[:port]. */
  url: string;
  /** Fixed, so the broker finds the persistent session again after a reconnect or restart. */
  clientId: string;
  /** false: a persistent session (subscriptions and QoS 1 messages kept while away). */
  clean: boolean;
  /** 4 = MQTT 3.1.1 (every broker, aedes included), 5 = MQTT 5. */
  protocolVersion: 4 | 5;
  /** MQTT 5 only: how long the broker keeps the session after a disconnect (s). */
  sessionExpiryS: number;
  username: string;
  password: string;
  tls: MqttTlsSettings;
  /** PINGREQ period (s): a dead connection is noticed within about 1.5 times this. */
  keepaliveS: number;
  /** How long to wait for CONNACK (ms). */
  connectTimeoutMs: number;
  backoff: BackoffOptions;
}

export const NO_TLS: Readonly<MqttTlsSettings> = Object.freeze({ caFile: "", certFile: "", keyFile: "", rejectUnauthorized: true });

const CLIENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The broker URL checked: mqtt: or mqtts:, a host, no path or credentials in it. */
export function parseBrokerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidInputError("bad_argument", `broker must be "embedded" or an mqtt:// or mqtts:// URL, got ${JSON.stringify(text.slice(0, 120))}`);
  }
  if (url.protocol !== "mqtt:" && url.protocol !== "mqtts:") {
    throw new InvalidInputError("bad_argument", `broker URL must use mqtt:// or mqtts://, got ${url.protocol}//`);
  }
  if (url.hostname === "") throw new InvalidInputError("bad_argument", `broker URL ${JSON.stringify(text)} names no host`);
  if (url.username !== "" || url.password !== "") {
    // Credentials in a URL end up in logs and process listings; they have their own parameters.
    throw new InvalidInputError("bad_argument", "put the broker's username and password in their own parameters, not in the URL");
  }
  if (url.pathname !== "" && url.pathname !== "/") throw new InvalidInputError("bad_argument", `broker URL must not have a path, got ${JSON.stringify(url.pathname)}`);
  return url;
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InvalidInputError("bad_argument", `${what} ${JSON.stringify(path)} cannot be read: ${(e as Error).message}`);
  }
}

/**
 * mqtt.js options for `s`, checked (InvalidInputError "bad_argument" naming the setting): the
 * URL, client id (1–128 of A-Z a-z 0-9 _ . : -), TLS files readable and only with mqtts://,
 * certificate and key together, password only with a username, keepalive and timeouts sane.
 */
export function mqttClientOptions(s: MqttConnectionSettings): IClientOptions {
  const url = parseBrokerUrl(s.url);
  if (!CLIENT_ID.test(s.clientId)) throw new InvalidInputError("bad_argument", `client id must be 1–128 of A-Z a-z 0-9 _ . : -, got ${JSON.stringify(s.clientId.slice(0, 140))}`);
  if (s.protocolVersion !== 4 && s.protocolVersion !== 5) throw new InvalidInputError("bad_argument", `MQTT protocol version must be 4 (3.1.1) or 5, got ${String(s.protocolVersion)}`);
  if (!Number.isInteger(s.keepaliveS) || s.keepaliveS < 0 || s.keepaliveS > 65535) throw new InvalidInputError("bad_argument", `keepalive must be an integer from 0 to 65535 s, got ${s.keepaliveS}`);
  if (!Number.isFinite(s.connectTimeoutMs) || s.connectTimeoutMs < 100 || s.connectTimeoutMs > 600_000) {
    throw new InvalidInputError("bad_argument", `connect timeout must be from 100 to 600000 ms, got ${s.connectTimeoutMs}`);
  }
  if (!Number.isInteger(s.sessionExpiryS) || s.sessionExpiryS < 0 || s.sessionExpiryS > 0xffffffff) {
    throw new InvalidInputError("bad_argument", `session expiry must be an integer from 0 to 4294967295 s, got ${s.sessionExpiryS}`);
  }
  if (s.password !== "" && s.username === "") throw new InvalidInputError("bad_argument", "a password needs a username");
  const tls = s.tls;
  const anyTlsFile = tls.caFile !== "" || tls.certFile !== "" || tls.keyFile !== "";
  if (url.protocol === "mqtt:" && anyTlsFile) throw new InvalidInputError("bad_argument", "TLS files are given but the broker URL is mqtt:// (plain TCP); use mqtts://");
  if ((tls.certFile === "") !== (tls.keyFile === "")) throw new InvalidInputError("bad_argument", "a TLS client certificate and its key go together: give both or neither");
  const options: IClientOptions = {
    clientId: s.clientId,
    clean: s.clean,
    protocolVersion: s.protocolVersion,
    keepalive: s.keepaliveS,
    connectTimeout: s.connectTimeoutMs,
    reconnectPeriod: s.backoff.minMs,
    // A refused CONNACK (bad credentials, not authorised, server unavailable) is retried with the
    // same backoff: whoever fixes the broker's side sees the client come back without a restart.
    reconnectOnConnackError: true,
    // Subscriptions are renewed by the owner on every CONNACK (a broker that lost the session
    // must get them again); mqtt.js's own resubscription would send them twice.
    resubscribe: false,
    // QoS 0 is never used here; nothing should pile up offline unnoticed.
    queueQoSZero: false,
  };
  if (s.protocolVersion === 5) options.properties = { sessionExpiryInterval: s.clean ? 0 : s.sessionExpiryS };
  if (s.username !== "") options.username = s.username;
  if (s.password !== "") options.password = s.password;
  if (url.protocol === "mqtts:") {
    options.rejectUnauthorized = tls.rejectUnauthorized;
    if (tls.caFile !== "") options.ca = readPem("TLS CA file", tls.caFile);
    if (tls.certFile !== "") options.cert = readPem("TLS certificate file", tls.certFile);
    if (tls.keyFile !== "") options.key = readPem("TLS key file", tls.keyFile);
  }
  return options;
}

export interface MqttConnection {
  client: MqttClient;
  backoff: ReconnectBackoff;
}

/**
 * Connects (asynchronously: the client retries with backoff until the broker answers) and
 * returns the client. Settings are checked first; a bad one throws before any socket opens.
 * `onScheduled` sees every reconnect delay chosen.
 */
export function connectMqtt(s: MqttConnectionSettings, onScheduled?: (delayMs: number, attempt: number) => void): MqttConnection {
  const options = mqttClientOptions(s);
  const backoff = new ReconnectBackoff(s.backoff);
  const client = connect(parseBrokerUrl(s.url).toString(), { ...options, manualConnect: true });
  applyBackoff(client, backoff, onScheduled);
  client.connect();
  return { client, backoff };
}
