import { parentPort, workerData } from "node:worker_threads";
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { Engine } from "./inference_engine.js";
import { toWire, type FromWorker, type ToWorker, type WorkerInit } from "./worker_protocol.js";

/**
 * The backbone's inference thread. It owns every onnxruntime session, the state arena and the
 * image preprocessor; the main thread (BackboneRuntime) only posts jobs and never calls
 * `session.run`, whose synchronous native call would otherwise stall timers and transports.
 *
 * Jobs are handled strictly one after another (a promise chain): `session.run` yields to this
 * thread's event loop between graphs, and a `remove` handled in that gap would free a slot the
 * running batch is about to scatter its states into.
 */

/**
 * Lowers this thread's scheduling priority before any session exists, so onnxruntime's
 * intra-op threads (created from this thread) inherit it. On Linux nice is per thread:
 * setpriority(PRIO_PROCESS, tid) with this thread's id (from /proc/thread-self) touches
 * neither the main thread nor the rest of the process. The event loop then preempts inference
 * at once when a timer or a transport callback wakes it. Elsewhere it is a no-op.
 */
function lowerPriority(niceness: number): number {
  if (niceness === 0 || process.platform !== "linux") return 0;
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid) || tid <= 0) return 0;
    setPriority(tid, Math.min(19, Math.max(-20, niceness)));
    return niceness;
  } catch {
    return 0; // not permitted or no procfs: run at the process's priority
  }
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("backbone_worker must run as a worker thread");
  const init = workerData as WorkerInit;
  lowerPriority(init.niceness);
  let engine: Engine;
  try {
    const created = await Engine.create(init);
    engine = created.engine;
    port.postMessage({ type: "ready", config: engine.config, info: created.info } satisfies FromWorker);
  } catch (e) {
    port.postMessage({ type: "initError", error: toWire(e) } satisfies FromWorker);
    return;
  }
  let chain: Promise<void> = Promise.resolve();
  const handle = async (m: ToWorker): Promise<void> => {
    try {
      switch (m.type) {
        case "add":
          engine.addStream(m.stream);
          port.postMessage({ type: "done", id: m.id, result: null } satisfies FromWorker);
          return;
        case "remove":
          engine.removeStream(m.stream);
          port.postMessage({ type: "done", id: m.id, result: null } satisfies FromWorker);
          return;
        case "frames": {
          const results = await engine.frames(m.items);
          port.postMessage({ type: "frames", id: m.id, results } satisfies FromWorker);
          return;
        }
        case "asks": {
          const r = await engine.asks(m.items);
          port.postMessage({ type: "asks", id: m.id, results: r.results, decodeRuns: r.decodeRuns } satisfies FromWorker);
          return;
        }
        case "setQuestion":
          engine.setQuestion(m.stream, m.question);
          port.postMessage({ type: "done", id: m.id, result: null } satisfies FromWorker);
          return;
        case "fault":
          engine.injectFault(m.fault);
          port.postMessage({ type: "done", id: m.id, result: null } satisfies FromWorker);
          return;
        case "readState": {
          const st = engine.readState(m.stream);
          port.postMessage({ type: "done", id: m.id, result: st } satisfies FromWorker, st.visual ? [st.conv.buffer, st.ssm.buffer, st.visual.buffer] : [st.conv.buffer, st.ssm.buffer]);
          return;
        }
        case "close":
          // Native session memory goes back before the thread ends (terminate alone leaks it until exit).
          await engine.release();
          port.postMessage({ type: "done", id: m.id, result: null } satisfies FromWorker);
          port.close();
          return;
      }
    } catch (e) {
      port.postMessage({ type: "failed", id: m.id, error: toWire(e) } satisfies FromWorker);
    }
  };
  port.on("message", (m: ToWorker) => {
    chain = chain.then(() => handle(m));
  });
}

void main();
