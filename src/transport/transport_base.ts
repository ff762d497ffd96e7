import { Counters } from "../diagnostics/counters.js";
import { stderrSink, type LogSink } from "./logger.js";
import type { NodeOptions, Transport, TransportErrorHandler, TransportNode } from "./port.js";

/**
 * What every backend's transport shares: transport-wide counters, the error hook and the set
 * of live nodes. Backends make the nodes and say how to shut down.
 */
export abstract class TransportBase<N extends TransportNode> implements Transport {
  abstract readonly name: string;
  readonly counters = new Counters();
  onError: TransportErrorHandler = () => {};
  logSinks: LogSink[] = [stderrSink];
  protected readonly nodes = new Set<N>();

  protected abstract makeNode(name: string, options: NodeOptions): N;
  abstract shutdown(): Promise<void>;

  createNode(name: string, options: NodeOptions = {}): TransportNode {
    const node = this.makeNode(name, options);
    this.nodes.add(node);
    return node;
  }

  protected destroyNodes(): void {
    for (const n of [...this.nodes]) n.destroy();
  }

  /** @internal */
  forget(node: N): void {
    this.nodes.delete(node);
  }

  /** @internal Hands an error to the hook; the hook's own failure is counted, never thrown. */
  reportError(error: unknown, context: string): void {
    try {
      this.onError(error, context);
    } catch {
      // The hook is the last resort; its own failure must not reach a publisher or DDS's delivery path.
      this.counters.inc("error_handler_failures");
    }
  }

  /** @internal */
  reportCallbackError(error: unknown, context: string): void {
    this.counters.inc("callback_errors");
    this.reportError(error, context);
  }
}
