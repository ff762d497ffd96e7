import type { MessageTypeName, MessageTypes, ServiceTypeName, ServiceTypes } from "../../msgs/generated.js";

/**
 * The part of rclnodejs the backend calls, written out so the main build needs no rclnodejs
 * install. types/rclnodejs/conformance.ts assigns the real module to this interface under
 * tsconfig.rclnodejs.json (real rclnodejs types + our message shim): if rclnodejs changes a
 * signature we rely on, that check fails in CI.
 */
/** rclnodejs.QoS as constructed by the backend (the fields rcl reads). */
export interface RclQosLike {
  history: number;
  depth: number;
  reliability(): number;
  durability: number;
  liveliness: number;
  avoidRosNameSpaceConventions: boolean;
}

export interface RclOptionsLike {
  qos?: RclQosLike;
  enableTypedArray?: boolean;
  /**
   * "default": rclnodejs already hands subscribers plain objects (toPlainObject) with typed
   * arrays for numeric arrays, the shape src/msgs/generated.ts declares. "plain" would turn every
   * typed array into a number[] (Array.from), breaking image views that read `.buffer`.
   */
  serializationMode?: "default";
}

export interface RclPublisherLike<M> {
  publish(message: M): void;
  subscriptionCount(): number;
}

/** A subscription or service handle: only ever given back to rclnodejs to destroy it. */
export type RclEntityLike = object;

export interface RclServiceResponseLike<R> {
  send(response: R): void;
}

export interface RclClientLike<Req, Res> {
  waitForService(timeout?: number): Promise<boolean>;
  sendRequestAsync(request: Req, options?: { timeout?: number }): Promise<Res>;
}

/** Any generated message (rclnodejs's MessageType over all our types). */
type AnyMessage = MessageTypes[MessageTypeName];
type AnyRequest = ServiceTypes[ServiceTypeName]["request"];
type AnyResponse = ServiceTypes[ServiceTypeName]["response"];

/**
 * Non-generic on purpose: rclnodejs's generic signatures resolve message types through
 * conditional types TypeScript cannot relate for a free type parameter, but it can for the
 * union of all our types. types/rclnodejs/conformance.ts checks the per-type precision.
 */
export interface RclNodeLike {
  createPublisher(typeClass: MessageTypeName, topic: string, options?: RclOptionsLike): RclPublisherLike<AnyMessage>;
  createSubscription(typeClass: MessageTypeName, topic: string, options: RclOptionsLike, callback: (message: AnyMessage) => void): RclEntityLike;
  createService(
    typeClass: ServiceTypeName, serviceName: string, options: RclOptionsLike,
    callback: (request: AnyRequest, response: RclServiceResponseLike<AnyResponse>) => void,
  ): RclEntityLike;
  createClient(typeClass: ServiceTypeName, serviceName: string, options?: RclOptionsLike): RclClientLike<AnyRequest, AnyResponse>;
  destroyPublisher(publisher: RclPublisherLike<AnyMessage>): void;
  destroySubscription(subscription: RclEntityLike): void;
  destroyService(service: RclEntityLike): void;
  destroyClient(client: RclClientLike<AnyRequest, AnyResponse>): void;
  declareParameter(parameter: RclParameterLike): RclParameterLike;
  hasParameter(name: string): boolean;
  addOnSetParametersCallback(callback: (parameters: RclParameterLike[]) => RclSetParametersResultLike): void;
  spin(timeout?: number): void;
  getLogger(): RclLoggingLike;
  destroy(): void;
}

/** rclnodejs.Logging: the node's rcl logger (console and /rosout, as rcl is configured). */
export interface RclLoggingLike {
  setLoggerLevel(level: number): void;
  debug(message: string): boolean;
  info(message: string): boolean;
  warn(message: string): boolean;
  error(message: string): boolean;
  fatal(message: string): boolean;
}

/** rcutils severities (rclnodejs.Logging.LoggingSeverity). */
export const RCL_LOG_SEVERITY = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 } as const;

/** rclnodejs.Parameter: value is a bigint for INTEGER, arrays for the array types. */
export interface RclParameterLike {
  readonly name: string;
  readonly type: number;
  value: unknown;
}

export interface RclSetParametersResultLike {
  successful: boolean;
  reason: string;
}

/** rcl_interfaces/msg/ParameterType values. */
export const RCL_PARAMETER_TYPE = {
  BOOL: 1,
  INTEGER: 2,
  DOUBLE: 3,
  STRING: 4,
  BOOL_ARRAY: 6,
  INTEGER_ARRAY: 7,
  DOUBLE_ARRAY: 8,
  STRING_ARRAY: 9,
} as const;

/** rclnodejs's QoS policy numbers (rmw_qos_*_policy_t). */
export const RCL_QOS = {
  HISTORY_KEEP_LAST: 1,
  HISTORY_KEEP_ALL: 2,
  RELIABILITY_RELIABLE: 1,
  RELIABILITY_BEST_EFFORT: 2,
  DURABILITY_TRANSIENT_LOCAL: 1,
  DURABILITY_VOLATILE: 2,
} as const;

export interface RclnodejsLike {
  init(context?: undefined, argv?: string[]): Promise<void>;
  shutdown(): void;
  Node: new (nodeName: string, namespace?: string) => RclNodeLike;
  QoS: new (history?: 1 | 2, depth?: number, reliability?: 1 | 2, durability?: 1 | 2) => RclQosLike;
  Parameter: new (name: string, type: number, value?: unknown) => RclParameterLike;
}
