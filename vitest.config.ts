import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/audit.ts"],
    // Building a module takes about a second; property and sweep tests take longer.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // test/losses.test.ts imports TensorFlow.js's gradients from tfjs-core's ESM build
    // (dist/register_all_gradients.js and what it imports), whose extensionless imports
    // Node cannot resolve: vite transforms those files. The Node build (tf-core.node.js)
    // stays external, shared with tfjs-backend-cpu.
    server: { deps: { inline: [/@tensorflow\/tfjs-core\/dist\/(?!tf-core\.node\.js)/] } },
  },
});
