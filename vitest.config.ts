import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup/event_loop_watch.ts"],
    testTimeout: 60_000,
    // Two cores here and in CI: keep workers bounded so CPU-heavy eval tests do not starve each other.
    maxWorkers: 2,
  },
});
