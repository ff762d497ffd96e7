import { InvalidInputError, SpatialRewardError } from "../../errors.js";
import { MSG_DEFINITIONS, type MessageTypeName, type ServiceTypeName } from "../../msgs/generated.js";
import { checkPositive, DEFAULT_CALL_TIMEOUT_MS, NodeBase } from "../node_base.js";
import type { NodeOptions, Publisher, ServiceClient, ServiceServer, Subscription, Transport } from "../port.js";
import { TransportBase } from "../transport_base.js";
import { QOS_DEFAULT, type QoS } from "../qos.js";
import type { ParameterValue, WidenParameter } from "../parameters.js";
import { RCL_LOG_SEVERITY, RCL_PARAMETER_TYPE, RCL_QOS, type RclLoggingLike, type RclnodejsLike, type RclNodeLike, type RclOptionsLike, type RclParameterLike } from "./rclnodejs_like.js";

export interface RclnodejsTransportOptions {
  /** The rclnodejs module; default `import("rclnodejs")` (tests pass a fake). */
  module?: RclnodejsLike;
  /** Passed to rclnodejs.init as global ROS arguments (default none, not process.argv). */
  argv?: string[];
}

/** Services use rmw's services default QoS: reliable, volatile, keep-last 10. */
const QOS_SERVICES: QoS = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 10 };

async function loadRclnodejs(): Promise<RclnodejsLike> {
  if (!process.env.ROS_DISTRO) {
    throw new SpatialRewardError(
      "backend_unavailable",
      "the rclnodejs backend needs a sourced ROS 2 (source /opt/ros/<distro>/setup.bash; ROS_DISTRO is unset) and `npm install rclnodejs` (see docs/ros2_host.md)",
    );
  }
  // A variable specifier: the main build must not need rclnodejs (it cannot install without ROS).
  const specifier = "rclnodejs";
  try {
    const m = (await import(specifier)) as { default?: RclnodejsLike } & RclnodejsLike;
    return m.default ?? m;
  } catch (e) {
    throw new SpatialRewardError("backend_unavailable", `rclnodejs could not be loaded (npm install rclnodejs on the ROS 2 host): ${(e as Error).message}`);
  }
}

/** The rclnodejs backend: the nodes as rcl nodes of a sourced ROS 2 installation. */
export async function createRclnodejsTransport(options: RclnodejsTransportOptions = {}): Promise<Transport> {
  const rcl = options.module ?? (await loadRclnodejs());
  // Never let rcl read process.argv: the CLI's --ros-args were already applied by the node base
  // (remaps, parameters), and rcl applying them again as global arguments would remap twice.
  await rcl.init(undefined, options.argv ?? []);
  return new RclnodejsTransport(rcl);
}

function knownType(type: string): void {
  if (!Object.prototype.hasOwnProperty.call(MSG_DEFINITIONS, type)) {
    throw new SpatialRewardError("bad_argument", `no message definition for ${type} (generated types: src/msgs/generated.ts)`);
  }
}

export class RclnodejsTransport extends TransportBase<RclNode> {
  readonly name = "rclnodejs";
  private closed = false;

  constructor(/** @internal */ readonly rcl: RclnodejsLike) {
    super();
  }

  protected makeNode(name: string, options: NodeOptions): RclNode {
    if (this.closed) throw new InvalidInputError("bad_argument", "the rclnodejs transport was shut down");
    return new RclNode(this, name, options);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.destroyNodes();
    this.closed = true;
    this.rcl.shutdown();
  }

  /** @internal */
  qos(q: QoS): RclOptionsLike["qos"] {
    checkPositive("QoS depth", q.depth);
    return new this.rcl.QoS(
      q.history === "keep_all" ? RCL_QOS.HISTORY_KEEP_ALL : RCL_QOS.HISTORY_KEEP_LAST,
      q.depth,
      q.reliability === "reliable" ? RCL_QOS.RELIABILITY_RELIABLE : RCL_QOS.RELIABILITY_BEST_EFFORT,
      q.durability === "transient_local" ? RCL_QOS.DURABILITY_TRANSIENT_LOCAL : RCL_QOS.DURABILITY_VOLATILE,
    );
  }

}

/**
 * Our parameter values as rclnodejs Parameters. Numbers are one kind here; ROS 2 has two, so
 * a whole number is declared INTEGER (`ros2 param set … 30` works) and anything else DOUBLE.
 */
function toRcl(rcl: RclnodejsLike, name: string, value: ParameterValue): RclParameterLike {
  const T = RCL_PARAMETER_TYPE;
  if (typeof value === "boolean") return new rcl.Parameter(name, T.BOOL, value);
  if (typeof value === "string") return new rcl.Parameter(name, T.STRING, value);
  if (typeof value === "number") return Number.isInteger(value) ? new rcl.Parameter(name, T.INTEGER, BigInt(value)) : new rcl.Parameter(name, T.DOUBLE, value);
  const first = value[0];
  if (typeof first === "boolean") return new rcl.Parameter(name, T.BOOL_ARRAY, value);
  if (typeof first === "number") {
    const ints = (value as number[]).every((v) => Number.isInteger(v));
    return ints ? new rcl.Parameter(name, T.INTEGER_ARRAY, (value as number[]).map((v) => BigInt(v))) : new rcl.Parameter(name, T.DOUBLE_ARRAY, value);
  }
  return new rcl.Parameter(name, T.STRING_ARRAY, value);
}

function fromRcl(p: RclParameterLike): ParameterValue {
  const v = p.value;
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<unknown>, (x) => (typeof x === "bigint" ? Number(x) : x)) as ParameterValue;
  return v as ParameterValue;
}

class RclNode extends NodeBase {
  private readonly rclNode: RclNodeLike;

  constructor(
    private readonly bus: RclnodejsTransport,
    name: string,
    options: NodeOptions,
  ) {
    // Log records go to rcl's node logger (console and /rosout as rcl is configured), which
    // exists only once the rcl node does; our logger filters by level first.
    const rclLog: { logger?: RclLoggingLike } = {};
    super(name, options, [(r) => rclLog.logger?.[r.level](r.message)]);
    // Names are resolved (remaps, namespace) by NodeBase, so rcl gets absolute names only.
    this.rclNode = new bus.rcl.Node(this.name, this.namespace);
    rclLog.logger = this.rclNode.getLogger();
    rclLog.logger.setLoggerLevel(RCL_LOG_SEVERITY[this.logger.level]);
    // `ros2 param set` reaches the node's parameter listeners (e.g. the reward spec); a value of
    // the wrong type is refused with the reason, as rclcpp nodes do.
    this.rclNode.addOnSetParametersCallback((parameters) => {
      try {
        for (const p of parameters) {
          if (this.getParameter(p.name) !== undefined) this.setParameter(p.name, fromRcl(p));
        }
        return { successful: true, reason: "" };
      } catch (e) {
        return { successful: false, reason: (e as Error).message };
      }
    });
    this.rclNode.spin();
  }

  override declareParameter<V extends ParameterValue>(name: string, defaultValue: V): WidenParameter<V> {
    const value = super.declareParameter(name, defaultValue);
    // rcl nodes declare some parameters themselves (use_sim_time): mirror ours, never redeclare.
    if (!this.rclNode.hasParameter(name)) this.rclNode.declareParameter(toRcl(this.bus.rcl, name, value));
    return value;
  }

  protected reportCallbackError(error: unknown, context: string): void {
    this.bus.reportCallbackError(error, context);
  }

  protected onDestroyed(): void {
    this.rclNode.destroy();
    this.bus.forget(this);
  }

  createPublisher<T>(type: string, topic: string, qos: QoS = QOS_DEFAULT): Publisher<T> {
    this.alive();
    knownType(type);
    const name = this.resolve(topic);
    const pub = this.rclNode.createPublisher(type as MessageTypeName, name, { qos: this.bus.qos(qos) });
    const counters = this.nodeCounters;
    const publishedKey = `published.${name}`;
    let live = true;
    const destroy = this.own(() => {
      live = false;
      this.rclNode.destroyPublisher(pub);
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
        // The generated type of `type` is what T names; rclnodejs validates the shape itself.
        (pub.publish as (m: unknown) => void)(msg);
        counters.inc(publishedKey);
        this.bus.counters.inc("messages_published");
      },
      subscriptionCount: () => (live ? pub.subscriptionCount() : 0),
      destroy,
    };
  }

  protected subscribe<T>(type: string, topic: string, qos: QoS, callback: (msg: T) => void, onDestroy: () => void): Subscription {
    this.alive();
    knownType(type);
    const name = this.resolve(topic);
    const counters = this.nodeCounters;
    const receivedKey = `received.${name}`;
    let live = true;
    const sub = this.rclNode.createSubscription(type as MessageTypeName, name, { qos: this.bus.qos(qos), serializationMode: "default", enableTypedArray: true }, (m) => {
      if (!live) return;
      counters.inc(receivedKey);
      try {
        callback(m as T);
        this.bus.counters.inc("messages_delivered");
      } catch (e) {
        counters.inc("callback_errors");
        this.bus.reportCallbackError(e, name);
      }
    });
    const destroy = this.own(() => {
      live = false;
      this.rclNode.destroySubscription(sub);
      onDestroy();
    });
    return { topic: name, type, destroy };
  }

  createService<Req, Res>(type: string, name: string, handler: (request: Req) => Res | Promise<Res>): ServiceServer {
    this.alive();
    knownType(`${type}_Request`);
    const full = this.resolve(name);
    const counters = this.nodeCounters;
    const service = this.rclNode.createService(type as ServiceTypeName, full, { qos: this.bus.qos(QOS_SERVICES) }, (request, response) => {
      Promise.resolve()
        .then(() => handler(request as Req))
        .then((result) => {
          (response.send as (r: unknown) => void)(result);
          counters.inc(`served.${full}`);
        })
        .catch((e: unknown) => {
          // ROS 2 services have no error reply: the client times out; count and report here.
          counters.inc("callback_errors");
          this.bus.reportCallbackError(e, full);
        });
    });
    const destroy = this.own(() => this.rclNode.destroyService(service));
    return { service: full, type, destroy };
  }

  createClient<Req, Res>(type: string, name: string): ServiceClient<Req, Res> {
    this.alive();
    knownType(`${type}_Request`);
    const full = this.resolve(name);
    const client = this.rclNode.createClient(type as ServiceTypeName, full, { qos: this.bus.qos(QOS_SERVICES) });
    const counters = this.nodeCounters;
    let live = true;
    const destroy = this.own(() => {
      live = false;
      this.rclNode.destroyClient(client);
    });
    const waitForService = async (timeoutMs: number): Promise<boolean> => (live ? client.waitForService(timeoutMs) : false);
    const call = async (request: Req, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<Res> => {
      if (!live) throw new InvalidInputError("bad_argument", `client of ${full} was destroyed`);
      checkPositive("service call timeout (ms)", timeoutMs);
      const started = Date.now();
      if (!(await waitForService(timeoutMs))) {
        counters.inc("service_unavailable");
        throw new SpatialRewardError("service_unavailable", `service ${full} (${type}) not available after ${timeoutMs} ms`);
      }
      const remaining = Math.max(1, timeoutMs - (Date.now() - started));
      try {
        return (await (client.sendRequestAsync as (r: unknown, o: { timeout: number }) => Promise<unknown>)(request, { timeout: remaining })) as Res;
      } catch (e) {
        counters.inc("service_timeouts");
        throw new SpatialRewardError("timeout", `service ${full} did not answer within ${timeoutMs} ms: ${(e as Error).message}`);
      }
    };
    return { service: full, type, call, waitForService, destroy };
  }
}
