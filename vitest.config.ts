import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files start their own emulators on port 0; two workers keep a
    // 2-core machine responsive while they run.
    maxWorkers: 2,
  },
});
