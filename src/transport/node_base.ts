import { Observable } from "rxjs";
import { Counters } from "../diagnostics/counters.js";
import { InvalidInputError } from "../errors.js";
import { loggerName, SinkLogger, type Logger, type LogSink } from "./logger.js";
import { nodeIdentity, parseRemapRule, resolveName, type RemapRule } from "./names.js";
import { kindAccepts, parameterKind, validateParameterName, type ParameterKind, type ParameterValue, type WidenParameter } from "./parameters.js";
import type {
  NodeOptions, ParameterChangeCallback, ParameterValidator, Publisher, ServiceClient, ServiceServer, Subscription, Timer, TransportNode,
} from "./port.js";
import { QOS_DEFAULT, type QoS } from "./qos.js";

export const DEFAULT_CALL_TIMEOUT_MS = 5000;

export function checkPositive(what: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new InvalidInputError("bad_argument", `${what} must be a positive number, got ${value}`);
}

/**
 * What every backend's node shares: ROS 2 name resolution and remaps, parameters, timers,
 * counters and owned-resource cleanup. Backends supply topics and services.
 */
export abstract class NodeBase implements TransportNode {
  readonly name: string;
  readonly namespace: string;
  readonly fullyQualifiedName: string;
  readonly logger: Logger;
  protected readonly nodeCounters = new Counters();
  private readonly remaps: readonly RemapRule[];
  private readonly overrides: Readonly<Record<string, ParameterValue>>;
  private readonly params = new Map<string, { kind: ParameterKind; value: ParameterValue }>();
  private readonly paramListeners = new Set<ParameterChangeCallback>();
  private readonly paramValidators = new Set<ParameterValidator>();
  private readonly cleanups = new Set<() => void>();
  private destroyed = false;

  constructor(name: string, options: NodeOptions, logSinks: readonly LogSink[]) {
    const rules = options.remaps ?? [];
    const id = nodeIdentity(name, options.namespace, rules);
    this.name = id.name;
    this.namespace = id.namespace;
    this.fullyQualifiedName = `${this.namespace === "/" ? "" : this.namespace}/${this.name}`;
    this.logger = new SinkLogger(loggerName(this.fullyQualifiedName), options.logLevel ?? "info", [...logSinks]);
    // A "node:from:=to" rule names the node as created, before any __node rule renamed it.
    this.remaps = rules
      .map(parseRemapRule)
      .filter((r) => r.nodeName === undefined || r.nodeName === name)
      .map((r) => ({ from: r.from, to: r.to }));
    this.overrides = options.parameterOverrides ?? {};
  }

  /** Reports an error a user callback threw (already counted as callback_errors by the node). */
  protected abstract reportCallbackError(error: unknown, context: string): void;
  /** Called once when the node is destroyed, after its resources were released. */
  protected abstract onDestroyed(): void;

  abstract createPublisher<T>(type: string, topic: string, qos?: QoS): Publisher<T>;
  abstract createService<Req, Res>(type: string, name: string, handler: (request: Req) => Res | Promise<Res>): ServiceServer;
  abstract createClient<Req, Res>(type: string, name: string): ServiceClient<Req, Res>;
  /** A subscription whose `onDestroy` runs once when it is destroyed (by itself or the node). */
  protected abstract subscribe<T>(type: string, topic: string, qos: QoS, callback: (msg: T) => void, onDestroy: () => void): Subscription;

  protected resolve(name: string): string {
    return resolveName(name, this.namespace, this.name, this.remaps);
  }

  protected alive(): void {
    if (this.destroyed) throw new InvalidInputError("bad_argument", `node ${this.fullyQualifiedName} was destroyed`);
  }

  /** Registers a cleanup run by destroy(); the returned function runs it once, early. */
  protected own(cleanup: () => void): () => void {
    let done = false;
    const run = () => {
      if (done) return;
      done = true;
      this.cleanups.delete(run);
      cleanup();
    };
    this.cleanups.add(run);
    return run;
  }

  createSubscription<T>(type: string, topic: string, qos: QoS, callback: (msg: T) => void): Subscription {
    return this.subscribe(type, topic, qos, callback, () => {});
  }

  observe<T>(type: string, topic: string, qos: QoS = QOS_DEFAULT): Observable<T> {
    return new Observable<T>((subscriber) => {
      const s = this.subscribe<T>(type, topic, qos, (m) => subscriber.next(m), () => subscriber.complete());
      return () => s.destroy();
    });
  }

  createTimer(periodMs: number, callback: () => void): Timer {
    this.alive();
    checkPositive("timer period (ms)", periodMs);
    const context = `timer:${this.fullyQualifiedName}`;
    const h = setInterval(() => {
      try {
        callback();
      } catch (e) {
        this.nodeCounters.inc("callback_errors");
        this.reportCallbackError(e, context);
      }
    }, periodMs);
    // Timers must not keep a finished process alive (simulator loops exit when done).
    h.unref();
    const cancel = this.own(() => clearInterval(h));
    return { periodMs, cancel };
  }

  declareParameter<V extends ParameterValue>(name: string, defaultValue: V): WidenParameter<V> {
    this.alive();
    validateParameterName(name);
    if (this.params.has(name)) throw new InvalidInputError("bad_argument", `parameter ${name} is already declared on ${this.fullyQualifiedName}`);
    let kind = parameterKind(name, defaultValue);
    let value: ParameterValue = defaultValue;
    if (Object.prototype.hasOwnProperty.call(this.overrides, name)) {
      const override = this.overrides[name];
      const overrideKind = parameterKind(name, override);
      if (!kindAccepts(kind, overrideKind)) {
        throw new InvalidInputError("bad_argument", `parameter ${name} of ${this.fullyQualifiedName}: expected ${kind}, got ${overrideKind} (${String(override)})`);
      }
      if (kind === "empty_array") kind = overrideKind;
      value = override;
    }
    this.params.set(name, { kind, value });
    // The override was checked to be of the default's kind, which is what WidenParameter<V> names.
    return value as WidenParameter<V>;
  }

  getParameter(name: string): ParameterValue | undefined {
    return this.params.get(name)?.value;
  }

  setParameter(name: string, value: ParameterValue): void {
    this.alive();
    const p = this.params.get(name);
    if (!p) throw new InvalidInputError("bad_argument", `parameter ${name} was not declared on ${this.fullyQualifiedName}`);
    const kind = parameterKind(name, value);
    if (!kindAccepts(p.kind, kind)) {
      throw new InvalidInputError("bad_argument", `parameter ${name} of ${this.fullyQualifiedName}: expected ${p.kind}, got ${kind} (${String(value)})`);
    }
    for (const v of [...this.paramValidators]) v(name, value);
    this.params.set(name, { kind: p.kind === "empty_array" ? kind : p.kind, value });
    const context = `parameter:${this.fullyQualifiedName}`;
    for (const l of [...this.paramListeners]) {
      try {
        l(name, value);
      } catch (e) {
        this.nodeCounters.inc("callback_errors");
        this.reportCallbackError(e, context);
      }
    }
  }

  onParameterChange(callback: ParameterChangeCallback): () => void {
    this.paramListeners.add(callback);
    return () => {
      this.paramListeners.delete(callback);
    };
  }

  onParameterValidate(validator: ParameterValidator): () => void {
    this.paramValidators.add(validator);
    return () => {
      this.paramValidators.delete(validator);
    };
  }

  counters(): Counters {
    return this.nodeCounters;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of [...this.cleanups]) c();
    this.paramListeners.clear();
    this.paramValidators.clear();
    this.onDestroyed();
  }
}
