import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // onnxruntime-node sessions are heavy; forks keep native state out of the main thread.
    pool: "forks",
  },
});
