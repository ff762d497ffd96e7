import type { Observable } from "rxjs";
import type { Counters } from "../diagnostics/counters.js";
import type { ParameterValue } from "./parameters.js";
import type { QoS } from "./qos.js";

/**
 * The transport port: what nodes need from ROS 2, modelled on rclnodejs's API so the
 * rclnodejs backend is a thin adapter. Messages are plain objects shaped like the ROS 2
 * messages (generated types in src/msgs/generated.ts); type names are full ROS 2 names
 * ("sensor_msgs/msg/Image"). Backends: inproc (here), dds and rclnodejs (later).
 */
export interface Transport {
  readonly name: string;
  createNode(name: string, options?: NodeOptions): TransportNode;
  /** Destroys every node and releases the backend. */
  shutdown(): Promise<void>;
}

export interface NodeOptions {
  namespace?: string;
  /** ROS 2 remap rules, "from:=to", applied to topic and service names after expansion. */
  remaps?: readonly string[];
  /** Values that win over declareParameter defaults (from -p and --params-file). */
  parameterOverrides?: Readonly<Record<string, ParameterValue>>;
}

export interface Publisher<T> {
  readonly topic: string;
  publish(msg: T): void;
  subscriptionCount(): number;
}

export interface Subscription {
  readonly topic: string;
  destroy(): void;
}

export interface ServiceClient<Req, Res> {
  readonly service: string;
  /** Rejects with a typed error if no server answers within `timeoutMs` (default 5 s). */
  call(request: Req, timeoutMs?: number): Promise<Res>;
  waitForService(timeoutMs: number): Promise<boolean>;
}

export interface Timer {
  cancel(): void;
}

export interface TransportNode {
  readonly name: string;
  readonly namespace: string;
  readonly fullyQualifiedName: string;
  createPublisher<T>(type: string, topic: string, qos?: QoS): Publisher<T>;
  createSubscription<T>(type: string, topic: string, qos: QoS, callback: (msg: T) => void): Subscription;
  /** The same subscription as an rxjs stream (unsubscribe to destroy it). */
  observe<T>(type: string, topic: string, qos?: QoS): Observable<T>;
  createService<Req, Res>(type: string, name: string, handler: (request: Req) => Res | Promise<Res>): void;
  createClient<Req, Res>(type: string, name: string): ServiceClient<Req, Res>;
  createTimer(periodMs: number, callback: () => void): Timer;
  /** Declares a parameter; returns the override if one was given, else the default. */
  declareParameter(name: string, defaultValue: ParameterValue): ParameterValue;
  getParameter(name: string): ParameterValue | undefined;
  setParameter(name: string, value: ParameterValue): void;
  onParameterChange(callback: (name: string, value: ParameterValue) => void): void;
  /** Transport-level counters: messages in/out, callback errors, type mismatches. */
  counters(): Counters;
  destroy(): void;
}
