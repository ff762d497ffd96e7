import type { Observable } from "rxjs";
import type { Counters } from "../diagnostics/counters.js";
import type { MessageTypeName, MessageTypes, ServiceTypeName, ServiceTypes } from "../msgs/generated.js";
import type { Logger, LogLevel, LogSink } from "./logger.js";
import type { ParameterValue, WidenParameter } from "./parameters.js";
import type { QoS } from "./qos.js";

/**
 * The transport port: what nodes need from ROS 2, modelled on rclnodejs's API so the
 * rclnodejs backend is a thin adapter and the DDS backend a CDR codec away. Messages are plain
 * objects shaped like the ROS 2 messages (src/msgs/generated.ts); type names are full ROS 2
 * names ("sensor_msgs/msg/Image", "spatial_reward_msgs/srv/SpatialQuery"). Names follow ROS 2
 * resolution (src/transport/names.ts). Backends: inproc (here), dds and rclnodejs (later).
 *
 * Every method that takes a type name has two overloads: a typed one keyed by the generated
 * MessageTypes/ServiceTypes maps, and an untyped one for types outside them.
 */
export interface Transport {
  readonly name: string;
  /**
   * Called with every error a user callback throws (subscriptions, timers, parameter
   * listeners), after it was counted as `callback_errors`; delivery to others goes on.
   */
  onError: TransportErrorHandler;
  /**
   * Where the nodes' loggers write (default: stderr in rcutils' console format). Nodes take the
   * sinks set when they are created.
   */
  logSinks: LogSink[];
  createNode(name: string, options?: NodeOptions): TransportNode;
  /** Destroys every node and releases the backend. */
  shutdown(): Promise<void>;
}

/** `context` names where it happened: the topic, "timer:/node" or "parameter:/node". */
export type TransportErrorHandler = (error: unknown, context: string) => void;

export interface NodeOptions {
  namespace?: string;
  /** ROS 2 remap rules: "from:=to", "node:from:=to", "__node:=name", "__ns:=/ns". */
  remaps?: readonly string[];
  /** Values that win over declareParameter defaults (from -p and --params-file). */
  parameterOverrides?: Readonly<Record<string, ParameterValue>>;
  /** The node logger's level (default info), as `--ros-args --log-level` sets it. */
  logLevel?: LogLevel;
}

export interface Publisher<T> {
  /** Fully resolved topic name. */
  readonly topic: string;
  readonly type: string;
  readonly qos: QoS;
  /** Publishing after destroy() does nothing but count `publish_after_destroy`. */
  publish(msg: T): void;
  subscriptionCount(): number;
  destroy(): void;
}

export interface Subscription {
  readonly topic: string;
  readonly type: string;
  destroy(): void;
}

export interface ServiceServer {
  readonly service: string;
  readonly type: string;
  destroy(): void;
}

export interface ServiceClient<Req, Res> {
  readonly service: string;
  readonly type: string;
  /**
   * Sends a request. Rejects with a typed error if no server exists within `timeoutMs`
   * (default 5 s) or the answer does not arrive by then, and with the handler's error if it throws.
   */
  call(request: Req, timeoutMs?: number): Promise<Res>;
  /** Resolves true as soon as a server exists, false after `timeoutMs`. */
  waitForService(timeoutMs: number): Promise<boolean>;
  destroy(): void;
}

export interface Timer {
  readonly periodMs: number;
  cancel(): void;
}

export type ParameterChangeCallback = (name: string, value: ParameterValue) => void;
/** Throws (a SpatialRewardError with the reason) to refuse a value before it is set. */
export type ParameterValidator = (name: string, value: ParameterValue) => void;

export interface TransportNode {
  readonly name: string;
  readonly namespace: string;
  readonly fullyQualifiedName: string;
  /** The node's logger (rcl's node logger: named after the node, level from NodeOptions). */
  readonly logger: Logger;

  createPublisher<K extends MessageTypeName>(type: K, topic: string, qos?: QoS): Publisher<MessageTypes[K]>;
  createPublisher<T>(type: string, topic: string, qos?: QoS): Publisher<T>;

  createSubscription<K extends MessageTypeName>(type: K, topic: string, qos: QoS, callback: (msg: MessageTypes[K]) => void): Subscription;
  createSubscription<T>(type: string, topic: string, qos: QoS, callback: (msg: T) => void): Subscription;

  /**
   * The same subscription as an rxjs stream: subscribing creates it, unsubscribing destroys it,
   * node destroy completes it. Errors thrown inside the pipeline follow rxjs rules (handle them
   * with catchError): rxjs catches them before the transport can count them.
   */
  observe<K extends MessageTypeName>(type: K, topic: string, qos?: QoS): Observable<MessageTypes[K]>;
  observe<T>(type: string, topic: string, qos?: QoS): Observable<T>;

  createService<K extends ServiceTypeName>(
    type: K,
    name: string,
    handler: (request: ServiceTypes[K]["request"]) => ServiceTypes[K]["response"] | Promise<ServiceTypes[K]["response"]>,
  ): ServiceServer;
  createService<Req, Res>(type: string, name: string, handler: (request: Req) => Res | Promise<Res>): ServiceServer;

  createClient<K extends ServiceTypeName>(type: K, name: string): ServiceClient<ServiceTypes[K]["request"], ServiceTypes[K]["response"]>;
  createClient<Req, Res>(type: string, name: string): ServiceClient<Req, Res>;

  /** Calls `callback` every `periodMs` (> 0). Timers do not keep the process alive. */
  createTimer(periodMs: number, callback: () => void): Timer;

  /**
   * Declares a parameter; returns the override if one was given (it must have the default's
   * type), else the default. Declaring a name twice is an error, as in ROS 2.
   */
  declareParameter<V extends ParameterValue>(name: string, defaultValue: V): WidenParameter<V>;
  getParameter(name: string): ParameterValue | undefined;
  /**
   * Sets a declared parameter to a value of its declared type and notifies listeners. A value
   * a validator refuses is not set: the validator's error is thrown (as `ros2 param set` reports
   * "Setting parameter failed: <reason>").
   */
  setParameter(name: string, value: ParameterValue): void;
  /** Adds a check run before every set (rclcpp's on-set-parameters callback); returns a remover. */
  onParameterValidate(validator: ParameterValidator): () => void;
  /** Listens to parameter changes; returns a function that stops listening. */
  onParameterChange(callback: ParameterChangeCallback): () => void;

  /** This node's transport counters: published.<topic>, received.<topic>, callback_errors, drops. */
  counters(): Counters;
  /** Destroys every publisher, subscription, service, client and timer of the node. */
  destroy(): void;
}
