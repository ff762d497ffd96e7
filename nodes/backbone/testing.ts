import { BackboneRuntime, type OpenOptions, type WorkerFault } from "./backbone_runtime.js";
import { FAULT_INJECTION } from "./fault_injection.js";

/**
 * Test support, not part of `spatial-reward/backbone` (index.ts does not re-export it): a runtime
 * whose worker accepts injected graph-run faults, and the call that injects one.
 */

/** BackboneRuntime.open with the test-only fault hook on. Never use in production. */
export function openWithFaultInjectionForTesting(opts: OpenOptions): Promise<BackboneRuntime> {
  const withHook: OpenOptions & { readonly [FAULT_INJECTION]: boolean } = { ...opts, [FAULT_INJECTION]: true };
  return BackboneRuntime.open(withHook);
}

/** The worker's next run(s) of `fault.graph` throw; refused (bad_state) unless opened with the hook. */
export function injectFaultForTesting(rt: BackboneRuntime, fault: WorkerFault): Promise<void> {
  return rt[FAULT_INJECTION](fault);
}

export type { WorkerFault };
