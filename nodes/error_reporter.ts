import type { Counters } from "../src/diagnostics/counters.js";
import { SpatialRewardError, isSpatialRewardError } from "../src/errors.js";
import type { Logger } from "../src/transport/logger.js";

/** How often the same error code may reach the log (the counter always counts). */
const LOG_THROTTLE_MS = 5000;
/** Longest error text kept for /diagnostics and the log: hostile input can be megabytes long. */
const MAX_MESSAGE_CHARS = 300;

/**
 * What a node does with an error inside one of its callbacks: count it (`errors.<code>`, or
 * `errors.internal` for an exception that is not a SpatialRewardError, i.e. a bug), remember
 * it for /diagnostics, log it (throttled per code, as RCLCPP_WARN_THROTTLE would) and carry
 * on. Nothing is rethrown: one bad message must never stop the graph.
 */
export class ErrorReporter {
  /** The last error's message, for the diagnostics status line. */
  lastError = "";
  /** Unexpected exceptions seen (bugs): they raise the diagnostics level to ERROR. */
  internalErrors = 0;
  private readonly logged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly counters: Counters,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Counts and reports `e` seen in `context` ("camera/color/image_raw", "service spatial_query").
   * `alreadyCounted`: the core counted it already (Perception counts its own rejections).
   * Returns the error as a SpatialRewardError (an untyped one wrapped as `internal`).
   */
  report(e: unknown, context: string, alreadyCounted = false): SpatialRewardError {
    const typed = isSpatialRewardError(e) ? e : new SpatialRewardError("internal", `unexpected ${describeThrown(e)}`);
    if (!alreadyCounted) this.counters.inc(`errors.${typed.code}`);
    if (typed.code === "internal") this.internalErrors++;
    const message = clip(`${context}: ${typed.message}`);
    this.lastError = message;
    this.log(typed, message, e);
    return typed;
  }

  /** `fn` wrapped so that whatever it throws is reported here instead of escaping. */
  guard<A extends unknown[]>(context: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        fn(...args);
      } catch (e) {
        this.report(e, context);
      }
    };
  }

  private log(typed: SpatialRewardError, message: string, original: unknown): void {
    const t = this.now();
    const seen = this.logged.get(typed.code);
    if (seen && t - seen.at < LOG_THROTTLE_MS) {
      seen.suppressed++;
      return;
    }
    const more = seen && seen.suppressed > 0 ? ` (${seen.suppressed} more errors.${typed.code} since the last report)` : "";
    this.logged.set(typed.code, { at: t, suppressed: 0 });
    if (typed.code === "internal") {
      const stack = original instanceof Error && original.stack ? `\n${original.stack}` : "";
      this.logger.error(`${message}${more}${stack}`);
    } else {
      this.logger.warn(`[${typed.code}] ${message}${more}`);
    }
  }
}

/** What was thrown, in words, without trusting it: a hostile object's toString may throw too. */
function describeThrown(e: unknown): string {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : `${typeof e}: ${String(e)}`;
  } catch {
    return `${typeof e} (unprintable)`;
  }
}

/** Bounded text: the head of it and how much was cut. */
export function clip(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more chars)`;
}
