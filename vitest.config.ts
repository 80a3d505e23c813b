import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/audit.ts"],
    // Building a module takes about a second; property and sweep tests take longer.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
