/**
 * The inbox page in Chromium against a launched local stack: start both, open pages (in
 * one browser context, so they are tabs of one browser and share a BroadcastChannel),
 * sign in, publish as a service through SNS, and read what the page shows.
 */
import { mkdir } from 'node:fs/promises';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { TOPOLOGY } from '#config/topology';
import { type LocalStack, startLocalStack } from '#local/stack';
import { launchChromium } from '#test/support/chromium';

/**
 * Whether the HTTP API serves a route yet: page tests of features whose backend lands on
 * another branch run once it is there (filters and counts come with `POST
 * /notifications/counts`, snooze with its route).
 */
export function served(route: string): boolean {
  return (TOPOLOGY.httpRoutes as readonly string[]).includes(route);
}

export const FILTERS_AND_COUNTS = served('POST /notifications/counts');
export const SNOOZE = served('POST /notifications/{id}/snooze');

/** Generous: the first page load bundles the page with esbuild, and machines differ. */
export const ARRIVAL_MS = 30_000;

export interface InboxPageRig {
  stack: LocalStack;
  browser: Browser;
  sns: SNSClient;
  /** What the pages said on their console and in uncaught errors, for failure messages. */
  log: string[];
  stop(): Promise<void>;
}

export async function startInboxPageRig(secret: string): Promise<InboxPageRig> {
  // First, so that a missing Chromium fails before any emulator starts.
  const browser = await launchChromium();
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      ports: { http: 0, websocket: 0, sqs: 0, dynamodb: 0, ses: 0 },
      jwtSecret: secret,
      pollSeconds: 1,
    });
  } catch (error) {
    await browser.close();
    throw error;
  }
  const sns = new SNSClient({
    endpoint: stack.urls.sns,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const log: string[] = [];
  return {
    stack,
    browser,
    sns,
    log,
    stop: async () => {
      // Each step runs even if an earlier one throws, so nothing is left running.
      await browser.close().catch(() => undefined);
      sns.destroy();
      await stack.stop();
    },
  };
}

/** A browser context: its pages are tabs of one browser profile. */
export async function newTabs(rig: InboxPageRig): Promise<BrowserContext> {
  return rig.browser.newContext({ viewport: { width: 1100, height: 900 } });
}

export async function openPage(rig: InboxPageRig, context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (message) => rig.log.push(`console.${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => rig.log.push(`pageerror: ${error.message}`));
  await page.goto(`${rig.stack.urls.http}/`);
  return page;
}

export const failure = (rig: InboxPageRig) => () => `page log:\n${rig.log.join('\n') || '(empty)'}`;

/** Signs in and waits for the socket to open and the first page of history to load. */
export async function signIn(rig: InboxPageRig, page: Page, user: string): Promise<void> {
  await page.getByTestId('signin-user').fill(user);
  await page.getByTestId('signin-button').click();
  await expect
    .poll(() => page.getByTestId('connection-state').getAttribute('data-state'), {
      timeout: ARRIVAL_MS,
      message: failure(rig)(),
    })
    .toBe('open');
}

export async function openFeed(page: Page): Promise<void> {
  if ((await page.getByTestId('bell-button').getAttribute('aria-expanded')) !== 'true') {
    await page.getByTestId('bell-button').click();
  }
}

/**
 * Publishes as a service would, through SNS in batches of ten, and waits until the user's
 * inbox holds them (so the page signs in to history, not to live pushes).
 */
export async function publishHistory(
  rig: InboxPageRig,
  user: string,
  envelopes: Record<string, unknown>[],
): Promise<void> {
  for (let start = 0; start < envelopes.length; start += 10) {
    const batch = envelopes.slice(start, start + 10);
    await rig.sns.send(
      new PublishBatchCommand({
        TopicArn: rig.stack.topicArn,
        PublishBatchRequestEntries: batch.map((envelope, index) => ({
          Id: `m${start + index}`,
          Message: JSON.stringify({
            id: `evt-${user}-${start + index}-${Date.now()}`,
            type: 'demo.message',
            to: { users: [user] },
            ...envelope,
          }),
        })),
      }),
    );
  }
  await expect
    .poll(() => storedCount(rig, user), { timeout: ARRIVAL_MS, interval: 250 })
    .toBeGreaterThanOrEqual(envelopes.length);
}

/** How many notifications the user's inbox lists, through the HTTP API (up to 100). */
async function storedCount(rig: InboxPageRig, user: string): Promise<number> {
  const base = rig.stack.urls.http;
  const tokenAnswer = await fetch(`${base}/dev/token?user=${encodeURIComponent(user)}`);
  const { token } = (await tokenAnswer.json()) as { token: string };
  const list = await fetch(`${base}/notifications?limit=100`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const { items } = (await list.json()) as { items?: unknown[] };
  return items?.length ?? 0;
}

export const itemTitles = (page: Page) =>
  page.getByTestId('notification-item').locator('strong').allTextContents();

export const unreadRows = (page: Page) =>
  page.locator('[data-testid="notification-item"].unread').count();

export const text = (page: Page, testId: string) => page.getByTestId(testId).textContent();

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir('test-output', { recursive: true });
  await page.screenshot({ path: `test-output/${name}.png`, fullPage: true });
}
