/**
 * The smoke test against a local stack started here: its checks in-process, and
 * `npm run smoke -- --local` as a command, both leaving nothing behind.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevToken } from '#local/dev-token';
import { smokeArgs } from '#local/smoke';
import { runSmoke } from '#local/smoke-check';
import { E2E_SECRET, type E2e, inboxEventIds, startE2e } from '#test/support/e2e';

const run = promisify(execFile);
let e2e: E2e;
let events: EventBridgeClient;

beforeAll(async () => {
  e2e = await startE2e();
  events = e2e.events;
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

function target(token: string) {
  return {
    websocketUrl: e2e.stack.urls.websocket,
    httpApiUrl: e2e.stack.urls.http,
    token,
    sns: e2e.sns,
    topicArn: e2e.stack.topicArn,
    eventBridge: { client: events },
  };
}

describe('smoke test', () => {
  it('reads its flags: a deployed stack needs a token, the local one does not', () => {
    expect(smokeArgs(['--local'])).toMatchObject({ local: true, timeoutSeconds: 30 });
    expect(smokeArgs(['--stack', 'Beta', '--token', 't'])).toMatchObject({
      local: false,
      stack: 'Beta',
      dataStack: 'HeraldData',
      token: 't',
    });
    expect(() => smokeArgs(['--stack', 'HeraldApp'])).toThrow(/needs --token/);
    expect(() => smokeArgs(['--local', '--timeout', 'soon'])).toThrow(/--timeout/);
  });

  it('sees a push and an inbox entry through SNS and through EventBridge, then cleans up', async () => {
    const token = await signDevToken({ userId: 'smoke-ann', tenant: 'acme', secret: E2E_SECRET });
    const result = await runSmoke(target(token));
    expect(result.paths.map((each) => each.path)).toEqual(['sns', 'eventbridge']);
    expect(result.cleanedUp).toBe(2);
    const inbox = await e2e.getJson('/notifications', 'smoke-ann', { tenant: 'acme' });
    expect(inbox.items).toEqual([]);
  });

  it('fails, saying why, when the WebSocket refuses its token', async () => {
    const token = await signDevToken({ userId: 'smoke-ben', secret: 'x'.repeat(40) });
    await expect(runSmoke(target(token))).rejects.toThrow(/refused the token: HTTP 401/);
  });

  it('passes as npm run smoke -- --local against the running stack', async () => {
    const port = (url: string) => new URL(url).port;
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'local/smoke.ts', '--local'],
      {
        env: {
          ...process.env,
          HERALD_WS_PORT: port(e2e.stack.urls.websocket),
          HERALD_HTTP_PORT: port(e2e.stack.urls.http),
          HERALD_SQS_PORT: port(e2e.stack.urls.sns),
          HERALD_EVENTBRIDGE_PORT: port(e2e.stack.urls.eventbridge),
          HERALD_JWT_SECRET: E2E_SECRET,
        },
      },
    );
    expect(stdout).toContain('smoke test passed: sns and eventbridge pushed and listed');
    expect(stdout).toContain('2 notification(s) cleaned up');
    expect(await inboxEventIds(e2e, 'smoke-test')).toEqual([]);
  }, 60_000);
});
