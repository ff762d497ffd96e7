/**
 * The key of the runtime's test-only fault hook. A Symbol, so the hook is neither a name in the
 * public API (`spatial-reward/backbone` does not export this module) nor reachable by accident:
 * only code that imports this key (nodes/backbone/testing.ts, for tests) can open a runtime
 * whose worker accepts faults, or inject one.
 */
export const FAULT_INJECTION: unique symbol = Symbol("spatial-reward.backbone.testOnlyFaultInjection");
