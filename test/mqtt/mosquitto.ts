import { MosquittoBroker, mosquittoMissing, type MosquittoOptions } from "../../nodes/mqtt/mosquitto_broker.js";

/**
 * Mosquitto for the tests: Debian's /usr/sbin/mosquitto on 127.0.0.1 with an ephemeral port,
 * persistence in a temporary directory, anonymous clients (nodes/mqtt/mosquitto_broker.ts).
 * Where it is not installed the tests that need it skip, saying why; with
 * SPATIAL_REWARD_REQUIRE_MOSQUITTO=1 (CI) its absence is a failure instead.
 */
export const MOSQUITTO_REQUIRED = process.env.SPATIAL_REWARD_REQUIRE_MOSQUITTO === "1";
export const MOSQUITTO_MISSING = mosquittoMissing();
if (MOSQUITTO_MISSING !== "") console.warn(`mosquitto tests: skipped, ${MOSQUITTO_MISSING}`);

/** Starts a broker for one test file; stop() it in afterAll. */
export function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  return MosquittoBroker.start(options);
}

export type { MosquittoBroker };
