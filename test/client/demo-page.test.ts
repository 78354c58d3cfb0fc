/**
 * The demo page in a real browser against the launched local stack: sign in, see the
 * connection open, publish from the page and from a service (SNS), see both arrive live.
 * Needs Debian's Chromium (`.ci/run` installs it); without it this test fails, it never skips.
 */
import { mkdir } from 'node:fs/promises';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '#local/stack';
import { launchChromium } from '#test/support/chromium';

const SECRET = 'demo-page-test-secret-of-at-least-thirty-two-bytes';
const SCREENSHOT = 'test-output/demo-page.png';
/** Generous: the first page load bundles the demo with esbuild. */
const ARRIVAL_MS = 20_000;

let stack: LocalStack | undefined;
let browser: Browser | undefined;
let sns: SNSClient | undefined;
/** What the page said on its console and in uncaught errors, for a failure message. */
const pageLog: string[] = [];

beforeAll(async () => {
  // First, so that a missing Chromium fails before any emulator starts.
  browser = await launchChromium();
  stack = await startLocalStack({
    ports: { http: 0, websocket: 0, sqs: 0, dynamodb: 0, ses: 0 },
    jwtSecret: SECRET,
    pollSeconds: 1,
  });
  sns = new SNSClient({
    endpoint: stack.urls.sns,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}, 120_000);

afterAll(async () => {
  // Each step runs even if an earlier one throws, so nothing is left running.
  await browser?.close().catch(() => undefined);
  sns?.destroy();
  await stack?.stop();
});

async function openPage(): Promise<Page> {
  const page = await required(browser).newPage({ viewport: { width: 1100, height: 800 } });
  page.on('console', (message) => pageLog.push(`console.${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => pageLog.push(`pageerror: ${error.message}`));
  await page.goto(`${required(stack).urls.http}/`);
  return page;
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('beforeAll did not finish: see its error above');
  return value;
}

const itemTitles = (page: Page) =>
  page.getByTestId('notification-item').locator('strong').allTextContents();

describe('the demo page in Chromium', () => {
  it('signs in, connects, and shows notifications published from the page and through SNS', async () => {
    const page = await openPage();
    const failure = () => `page log:\n${pageLog.join('\n') || '(empty)'}`;

    await page.getByTestId('signin-user').fill('browser-alice');
    await page.getByTestId('signin-button').click();
    await expect
      .poll(() => page.getByTestId('connection-state').getAttribute('data-state'), {
        timeout: ARRIVAL_MS,
        message: failure(),
      })
      .toBe('open');
    await expect(page.getByTestId('connection-state').textContent()).resolves.toBe('open');
    // The page ships with the default SES port; /dev/config tells it the real one.
    await expect(page.getByTestId('ses-link').getAttribute('href')).resolves.toBe(
      required(stack).urls.sesViewer,
    );

    // The page POSTs /dev/publish, which publishes through the local SNS topic.
    await page.getByTestId('publish-button').click();
    await expect
      .poll(() => itemTitles(page), { timeout: ARRIVAL_MS, message: failure() })
      .toEqual(['Test notification']);
    await expect(page.getByTestId('unread-badge').textContent()).resolves.toBe('1');

    // A service publishing to the topic directly, as a real producer would.
    await required(sns).send(
      new PublishCommand({
        TopicArn: required(stack).topicArn,
        Message: JSON.stringify({
          id: 'evt-demo-page-sns',
          type: 'build.finished',
          to: { users: ['browser-alice'] },
          title: 'Published through SNS',
          body: 'Sent by the test with @aws-sdk/client-sns',
        }),
      }),
    );
    await expect
      .poll(() => itemTitles(page), { timeout: ARRIVAL_MS, message: failure() })
      .toEqual(['Published through SNS', 'Test notification']);
    await expect(page.getByTestId('unread-badge').textContent()).resolves.toBe('2');
    expect(pageLog.filter((line) => line.startsWith('pageerror'))).toEqual([]);

    await mkdir('test-output', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  }, 60_000);
});
