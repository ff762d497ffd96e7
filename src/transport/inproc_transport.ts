import { InvalidInputError, SpatialRewardError } from "../errors.js";
import { checkPositive, DEFAULT_CALL_TIMEOUT_MS, NodeBase } from "./node_base.js";
import type { NodeOptions, Publisher, ServiceClient, ServiceServer, Subscription } from "./port.js";
import { TransportBase } from "./transport_base.js";
import { QOS_DEFAULT, type QoS } from "./qos.js";


interface Sub {
  readonly qos: QoS;
  /** False once destroyed: a delivery loop iterates the list it started with and must skip it. */
  live: boolean;
  readonly deliver: (msg: unknown) => void;
}

interface Pub {
  readonly qos: QoS;
  /** Last `qos.depth` messages of a transient_local publisher, oldest first. */
  readonly history: unknown[];
}

interface Topic {
  readonly name: string;
  readonly type: string;
  /** Replaced, never mutated, on (un)subscribe: a delivery loop keeps the list it started with. */
  subs: readonly Sub[];
  readonly pubs: Set<Pub>;
}

interface Service {
  readonly type: string;
  readonly handler: (request: unknown) => unknown;
}

/**
 * In-process backend: topics and services inside this process, for simulator loops, tests and
 * single-process runs. Delivery is synchronous and zero-copy: publish() hands the same object
 * to every subscriber before it returns, so subscribers must not mutate messages (nor keep
 * them expecting the publisher not to reuse its buffers). A frame published is thus processed
 * by the whole node graph before publish() returns.
 *
 * QoS: reliability and history are moot without a network or queue; durability is honoured:
 * a transient_local publisher keeps its last `depth` messages and replays them to each
 * transient_local subscription created later (at most that subscription's depth per publisher),
 * as DDS does (`depth` bounds the replay for keep_all too). A topic has one type while
 * anything uses it.
 */
export class InprocTransport extends TransportBase<InprocNode> {
  /** Counters: messages_published/delivered, callback_errors, errors.type_mismatch. */
  readonly name = "inproc";
  private readonly topics = new Map<string, Topic>();
  private readonly services = new Map<string, Service>();
  private readonly serviceWaiters = new Map<string, Set<() => void>>();

  protected makeNode(name: string, options: NodeOptions): InprocNode {
    return new InprocNode(this, name, options);
  }

  async shutdown(): Promise<void> {
    this.destroyNodes();
    this.topics.clear();
    this.services.clear();
    for (const waiters of this.serviceWaiters.values()) for (const w of waiters) w();
    this.serviceWaiters.clear();
  }

  /** @internal The topic, created on first use; a different type is a counted type_mismatch. */
  topic(name: string, type: string): Topic {
    let t = this.topics.get(name);
    if (!t) {
      t = { name, type, subs: [], pubs: new Set() };
      this.topics.set(name, t);
    } else if (t.type !== type) {
      this.counters.inc("errors.type_mismatch");
      throw new SpatialRewardError("type_mismatch", `topic ${name} carries ${t.type}; cannot use it as ${type}`);
    }
    return t;
  }

  /** @internal Drops a topic nobody uses any more, so its name can carry another type later. */
  release(t: Topic): void {
    if (t.subs.length === 0 && t.pubs.size === 0 && this.topics.get(t.name) === t) this.topics.delete(t.name);
  }

  /** @internal */
  publish(t: Topic, pub: Pub, msg: unknown): void {
    this.counters.inc("messages_published");
    if (pub.qos.durability === "transient_local") {
      pub.history.push(msg);
      if (pub.history.length > pub.qos.depth) pub.history.shift();
    }
    for (const s of t.subs) this.deliver(s, msg, t.name);
  }

  /** @internal */
  deliver(s: Sub, msg: unknown, context: string): void {
    if (!s.live) return;
    try {
      s.deliver(msg);
      this.counters.inc("messages_delivered");
    } catch (e) {
      this.reportCallbackError(e, context);
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
    const waiters = this.serviceWaiters.get(name);
    this.serviceWaiters.delete(name);
    if (waiters) for (const w of waiters) w();
  }

  /** @internal */
  removeService(name: string, s: Service): void {
    if (this.services.get(name) === s) this.services.delete(name);
  }

  /** @internal Resolves true once `name` has a server, false after `timeoutMs` or on shutdown. */
  waitForService(name: string, timeoutMs: number): Promise<boolean> {
    if (this.services.has(name)) return Promise.resolve(true);
    return new Promise((resolve) => {
      let waiters = this.serviceWaiters.get(name);
      if (!waiters) {
        waiters = new Set();
        this.serviceWaiters.set(name, waiters);
      }
      const set = waiters;
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve(this.services.has(name));
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      set.add(done);
    });
  }
}

class InprocNode extends NodeBase {
  constructor(
    private readonly bus: InprocTransport,
    name: string,
    options: NodeOptions,
  ) {
    super(name, options, bus.logSinks);
  }

  protected reportCallbackError(error: unknown, context: string): void {
    this.bus.reportCallbackError(error, context);
  }

  protected onDestroyed(): void {
    this.bus.forget(this);
  }

  createPublisher<T>(type: string, topic: string, qos: QoS = QOS_DEFAULT): Publisher<T> {
    this.alive();
    checkPositive("QoS depth", qos.depth);
    const name = this.resolve(topic);
    const t = this.bus.topic(name, type);
    const pub: Pub = { qos, history: [] };
    t.pubs.add(pub);
    const bus = this.bus;
    const counters = this.nodeCounters;
    const publishedKey = `published.${name}`;
    let live = true;
    const destroy = this.own(() => {
      live = false;
      t.pubs.delete(pub);
      bus.release(t);
    });
    return {
      topic: name,
      type,
      qos,
      publish: (msg: T) => {
        if (!live) {
          counters.inc("publish_after_destroy");
          return;
        }
        counters.inc(publishedKey);
        bus.publish(t, pub, msg);
      },
      subscriptionCount: () => (live ? t.subs.length : 0),
      destroy,
    };
  }

  protected subscribe<T>(type: string, topic: string, qos: QoS, callback: (msg: T) => void, onDestroy: () => void): Subscription {
    this.alive();
    checkPositive("QoS depth", qos.depth);
    const name = this.resolve(topic);
    const t = this.bus.topic(name, type);
    const counters = this.nodeCounters;
    const receivedKey = `received.${name}`;
    const sub: Sub = {
      qos,
      live: true,
      deliver: (msg) => {
        counters.inc(receivedKey);
        try {
          callback(msg as T);
        } catch (e) {
          counters.inc("callback_errors");
          throw e;
        }
      },
    };
    t.subs = [...t.subs, sub];
    const destroy = this.own(() => {
      sub.live = false;
      t.subs = t.subs.filter((s) => s !== sub);
      this.bus.release(t);
      onDestroy();
    });
    if (qos.durability === "transient_local") {
      for (const p of t.pubs) {
        if (p.qos.durability !== "transient_local") continue;
        for (const m of p.history.slice(-qos.depth)) this.bus.deliver(sub, m, name);
      }
    }
    return { topic: name, type, destroy };
  }

  createService<Req, Res>(type: string, name: string, handler: (request: Req) => Res | Promise<Res>): ServiceServer {
    this.alive();
    const full = this.resolve(name);
    const service: Service = { type, handler: handler as (request: unknown) => unknown };
    this.bus.addService(full, service);
    const destroy = this.own(() => this.bus.removeService(full, service));
    return { service: full, type, destroy };
  }

  createClient<Req, Res>(type: string, name: string): ServiceClient<Req, Res> {
    this.alive();
    const full = this.resolve(name);
    const bus = this.bus;
    const counters = this.nodeCounters;
    let live = true;
    const destroy = this.own(() => {
      live = false;
    });
    const call = async (request: Req, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<Res> => {
      if (!live) throw new InvalidInputError("bad_argument", `client of ${full} was destroyed`);
      checkPositive("service call timeout (ms)", timeoutMs);
      const started = Date.now();
      if (!(await bus.waitForService(full, timeoutMs))) {
        counters.inc("service_unavailable");
        throw new SpatialRewardError("service_unavailable", `service ${full} (${type}) not available after ${timeoutMs} ms`);
      }
      const s = bus.service(full)!;
      if (s.type !== type) {
        bus.counters.inc("errors.type_mismatch");
        throw new SpatialRewardError("type_mismatch", `service ${full} is ${s.type}; cannot call it as ${type}`);
      }
      const remaining = Math.max(0, timeoutMs - (Date.now() - started));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          counters.inc("service_timeouts");
          reject(new SpatialRewardError("timeout", `service ${full} did not answer within ${timeoutMs} ms`));
        }, remaining);
      });
      try {
        // Through a promise so a handler that throws synchronously rejects the call too.
        return (await Promise.race([Promise.resolve().then(() => s.handler(request)), timeout])) as Res;
      } finally {
        clearTimeout(timer);
      }
    };
    return {
      service: full,
      type,
      call,
      waitForService: (timeoutMs: number) => (live ? bus.waitForService(full, timeoutMs) : Promise.resolve(false)),
      destroy,
    };
  }
}
