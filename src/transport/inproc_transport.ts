import { Observable } from "rxjs";
import { Counters } from "../diagnostics/counters.js";
import { InvalidInputError, SpatialRewardError } from "../errors.js";
import { normalizeNamespace, resolveName } from "./names.js";
import type { ParameterValue } from "./parameters.js";
import type { NodeOptions, Publisher, ServiceClient, Subscription, Timer, Transport, TransportNode } from "./port.js";
import { QOS_DEFAULT, type QoS } from "./qos.js";

interface Sub {
  qos: QoS;
  deliver: (msg: unknown) => void;
}

interface Topic {
  type: string;
  subs: Set<Sub>;
  /** Last messages of transient-local publishers, replayed to transient-local late joiners. */
  latched: unknown[];
  latchDepth: number;
}

interface Service {
  type: string;
  handler: (req: unknown) => unknown;
}

/**
 * In-process backend: one rxjs-free bus of topics and services inside this process. Delivery
 * is synchronous and zero-copy — a published object reaches every subscriber by reference,
 * so subscribers must not mutate messages. This is the backend simulator loops use: a frame
 * published is processed by the whole node graph before publish() returns.
 */
export class InprocTransport implements Transport {
  readonly name = "inproc";
  readonly counters = new Counters();
  private readonly topics = new Map<string, Topic>();
  private readonly services = new Map<string, Service>();
  private readonly nodes = new Set<InprocNode>();
  /** Called with every error thrown by a subscriber callback (after counting it). */
  onError: (error: unknown, topic: string) => void = () => {};

  createNode(name: string, options: NodeOptions = {}): TransportNode {
    const node = new InprocNode(this, name, options);
    this.nodes.add(node);
    return node;
  }

  async shutdown(): Promise<void> {
    for (const n of [...this.nodes]) n.destroy();
    this.topics.clear();
    this.services.clear();
  }

  /** @internal */
  forget(node: InprocNode): void {
    this.nodes.delete(node);
  }

  /** @internal */
  topic(name: string, type: string): Topic {
    let t = this.topics.get(name);
    if (!t) {
      t = { type, subs: new Set(), latched: [], latchDepth: 0 };
      this.topics.set(name, t);
    } else if (t.type !== type) {
      this.counters.inc("errors.type_mismatch");
      throw new SpatialRewardError("type_mismatch", `topic ${name} carries ${t.type}, not ${type}`);
    }
    return t;
  }

  /** @internal */
  publish(t: Topic, topicName: string, msg: unknown, qos: QoS): void {
    this.counters.inc("messages_published");
    if (qos.durability === "transient_local") {
      t.latchDepth = Math.max(t.latchDepth, qos.depth);
      t.latched.push(msg);
      if (t.latched.length > t.latchDepth) t.latched.shift();
    }
    for (const s of t.subs) this.deliver(s, msg, topicName);
  }

  /** @internal */
  deliver(s: Sub, msg: unknown, topicName: string): void {
    try {
      s.deliver(msg);
      this.counters.inc("messages_delivered");
    } catch (e) {
      this.counters.inc("callback_errors");
      this.onError(e, topicName);
    }
  }

  /** @internal */
  service(name: string): Service | undefined {
    return this.services.get(name);
  }

  /** @internal */
  addService(name: string, s: Service): void {
    if (this.services.has(name)) throw new InvalidInputError("bad_argument", `service ${name} already exists`);
    this.services.set(name, s);
  }

  /** @internal */
  removeService(name: string): void {
    this.services.delete(name);
  }
}

class InprocNode implements TransportNode {
  readonly name: string;
  readonly namespace: string;
  readonly fullyQualifiedName: string;
  private readonly remaps: readonly string[];
  private readonly overrides: Readonly<Record<string, ParameterValue>>;
  private readonly params = new Map<string, ParameterValue>();
  private readonly paramListeners: ((name: string, value: ParameterValue) => void)[] = [];
  private readonly cleanups = new Set<() => void>();
  private readonly nodeCounters = new Counters();
  private destroyed = false;

  constructor(private readonly bus: InprocTransport, name: string, options: NodeOptions) {
    const rules = options.remaps ?? [];
    const nodeRule = rules.find((r) => r.startsWith("__node:="));
    const nsRule = rules.find((r) => r.startsWith("__ns:="));
    this.name = nodeRule ? nodeRule.slice("__node:=".length) : name;
    this.namespace = normalizeNamespace(nsRule ? nsRule.slice("__ns:=".length) : options.namespace);
    this.fullyQualifiedName = `${this.namespace === "/" ? "" : this.namespace}/${this.name}`;
    this.remaps = rules;
    this.overrides = options.parameterOverrides ?? {};
  }

  private resolve(name: string): string {
    return resolveName(name, this.namespace, this.name, this.remaps);
  }

  private alive(): void {
    if (this.destroyed) throw new InvalidInputError("bad_argument", `node ${this.fullyQualifiedName} was destroyed`);
  }

  createPublisher<T>(type: string, topic: string, qos: QoS = QOS_DEFAULT): Publisher<T> {
    this.alive();
    const name = this.resolve(topic);
    const t = this.bus.topic(name, type);
    const bus = this.bus;
    const counters = this.nodeCounters;
    return {
      topic: name,
      publish: (msg: T) => {
        if (this.destroyed) return;
        counters.inc(`published.${name}`);
        bus.publish(t, name, msg, qos);
      },
      subscriptionCount: () => t.subs.size,
    };
  }

  createSubscription<T>(type: string, topic: string, qos: QoS, callback: (msg: T) => void): Subscription {
    this.alive();
    const name = this.resolve(topic);
    const t = this.bus.topic(name, type);
    const counters = this.nodeCounters;
    const sub: Sub = {
      qos,
      deliver: (msg) => {
        counters.inc(`received.${name}`);
        callback(msg as T);
      },
    };
    t.subs.add(sub);
    const destroy = () => {
      t.subs.delete(sub);
      this.cleanups.delete(destroy);
    };
    this.cleanups.add(destroy);
    if (qos.durability === "transient_local") for (const m of t.latched.slice(-qos.depth)) this.bus.deliver(sub, m, name);
    return { topic: name, destroy };
  }

  observe<T>(type: string, topic: string, qos: QoS = QOS_DEFAULT): Observable<T> {
    return new Observable<T>((subscriber) => {
      const s = this.createSubscription<T>(type, topic, qos, (m) => subscriber.next(m));
      return () => s.destroy();
    });
  }

  createService<Req, Res>(type: string, name: string, handler: (request: Req) => Res | Promise<Res>): void {
    this.alive();
    const full = this.resolve(name);
    this.bus.addService(full, { type, handler: handler as (req: unknown) => unknown });
    this.cleanups.add(() => this.bus.removeService(full));
  }

  createClient<Req, Res>(type: string, name: string): ServiceClient<Req, Res> {
    this.alive();
    const full = this.resolve(name);
    const bus = this.bus;
    const waitForService = async (timeoutMs: number): Promise<boolean> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (bus.service(full)) return true;
        if (Date.now() >= deadline) return false;
        await new Promise((r) => setTimeout(r, Math.min(10, Math.max(1, deadline - Date.now()))));
      }
    };
    return {
      service: full,
      waitForService,
      call: async (request: Req, timeoutMs = 5000): Promise<Res> => {
        if (!(await waitForService(timeoutMs))) {
          throw new SpatialRewardError("bad_argument", `service ${full} not available after ${timeoutMs} ms`);
        }
        const s = bus.service(full)!;
        if (s.type !== type) {
          bus.counters.inc("errors.type_mismatch");
          throw new SpatialRewardError("type_mismatch", `service ${full} is ${s.type}, not ${type}`);
        }
        return (await s.handler(request)) as Res;
      },
    };
  }

  createTimer(periodMs: number, callback: () => void): Timer {
    this.alive();
    const h = setInterval(() => {
      try {
        callback();
      } catch (e) {
        this.bus.counters.inc("callback_errors");
        this.bus.onError(e, `timer:${this.fullyQualifiedName}`);
      }
    }, periodMs);
    // Timers must not keep a finished process alive (simulator loops exit when done).
    h.unref();
    const cancel = () => {
      clearInterval(h);
      this.cleanups.delete(cancel);
    };
    this.cleanups.add(cancel);
    return { cancel };
  }

  declareParameter(name: string, defaultValue: ParameterValue): ParameterValue {
    const value = name in this.overrides ? this.overrides[name] : defaultValue;
    if (typeof value !== typeof defaultValue && !(Array.isArray(value) && Array.isArray(defaultValue))) {
      throw new InvalidInputError("bad_argument", `parameter ${name}: expected ${typeof defaultValue}, got ${typeof value} (${String(value)})`);
    }
    this.params.set(name, value);
    return value;
  }

  getParameter(name: string): ParameterValue | undefined {
    return this.params.get(name);
  }

  setParameter(name: string, value: ParameterValue): void {
    if (!this.params.has(name)) throw new InvalidInputError("bad_argument", `parameter ${name} was not declared on ${this.fullyQualifiedName}`);
    this.params.set(name, value);
    for (const l of this.paramListeners) l(name, value);
  }

  onParameterChange(callback: (name: string, value: ParameterValue) => void): void {
    this.paramListeners.push(callback);
  }

  counters(): Counters {
    return this.nodeCounters;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of [...this.cleanups]) c();
    this.cleanups.clear();
    this.bus.forget(this);
  }
}
