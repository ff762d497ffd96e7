export * from "./qos.js";
export * from "./parameters.js";
export * from "./names.js";
export type * from "./port.js";
export { InprocTransport } from "./inproc_transport.js";
export * from "./logger.js";
