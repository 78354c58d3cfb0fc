/**
 * The inbox page in a real browser against the launched local stack: history on sign-in,
 * a click marks read and the badges follow, live pushes from the page and from a service,
 * the state panel, and a windowed list that loads more as it scrolls.
 * Needs Debian's Chromium (`.ci/run` installs it); without it this test fails, it never skips.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARRIVAL_MS,
  FILTERS_AND_COUNTS,
  failure,
  type InboxPageRig,
  itemTitles,
  newTabs,
  openFeed,
  openPage,
  publishHistory,
  screenshot,
  signIn,
  startInboxPageRig,
  text,
  unreadRows,
} from '#test/support/inbox-page';

const SECRET = 'demo-page-test-secret-of-at-least-thirty-two-bytes';

let rig: InboxPageRig | undefined;
let context: BrowserContext | undefined;

beforeAll(async () => {
  rig = await startInboxPageRig(SECRET);
  context = await newTabs(rig);
}, 120_000);

afterAll(async () => {
  await rig?.stop();
});

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('beforeAll did not finish: see its error above');
  return value;
}

describe('the inbox page in Chromium', () => {
  it('shows existing history on sign-in; a click marks read and the badges follow', async () => {
    const r = required(rig);
    await publishHistory(
      r,
      'history-ann',
      [1, 2, 3].map((n) => ({ title: `Old news ${n}`, body: `history item ${n}` })),
    );
    const page = await openPage(r, required(context));
    await signIn(r, page, 'history-ann');
    const poll = { timeout: ARRIVAL_MS, message: failure(r)() };

    // History loads on sign-in; the bell shows it unseen before the feed is opened.
    await expect.poll(() => text(page, 'unread-badge'), poll).toBe('3');
    await expect.poll(() => text(page, 'unseen-badge'), poll).toBe('3');
    await openFeed(page);
    // One SNS batch: the inbox orders them by arrival, which need not be the batch's order.
    await expect
      .poll(() => itemTitles(page).then((titles) => titles.sort()), poll)
      .toEqual(['Old news 1', 'Old news 2', 'Old news 3']);
    await expect.poll(() => unreadRows(page), poll).toBe(3);
    // Opening the feed saw everything: the bell clears, the items stay unread.
    await expect.poll(() => text(page, 'unseen-badge'), poll).toBe('0');

    await page.getByTestId('notification-item').filter({ hasText: 'Old news 2' }).click();
    await expect.poll(() => unreadRows(page), poll).toBe(2);
    await expect.poll(() => text(page, 'unread-badge'), poll).toBe('2');
    // The server agrees: its state frame and the Unread tab's count say 2 as well.
    await expect.poll(() => text(page, 'state-unread'), poll).toBe('2');
    if (FILTERS_AND_COUNTS) await expect.poll(() => text(page, 'tab-count-unread'), poll).toBe('2');
    expect(r.log.filter((line) => line.startsWith('pageerror'))).toEqual([]);
    await screenshot(page, 'inbox-page-history');
  }, 90_000);

  it('shows notifications published from the page and through SNS live', async () => {
    const r = required(rig);
    const page = await openPage(r, required(context));
    await signIn(r, page, 'browser-alice');
    await openFeed(page);
    const poll = { timeout: ARRIVAL_MS, message: failure(r)() };

    // The page POSTs /dev/publish, which publishes through the local SNS topic.
    await page.getByTestId('publish-button').click();
    await expect.poll(() => itemTitles(page), poll).toEqual(['Test notification']);
    await expect.poll(() => text(page, 'unread-badge'), poll).toBe('1');

    // A service publishing to the topic directly, as a real producer would.
    await r.sns.send(
      new PublishCommand({
        TopicArn: r.stack.topicArn,
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
      .poll(() => itemTitles(page), poll)
      .toEqual(['Published through SNS', 'Test notification']);
    await expect.poll(() => text(page, 'unread-badge'), poll).toBe('2');
    // The new type gets a row in the preferences panel.
    await expect
      .poll(
        () => page.locator('[data-testid="preference-row"][data-type="build.finished"]').count(),
        poll,
      )
      .toBe(1);
    // The page ships with the default SES port; /dev/config tells it the real one.
    await expect(page.getByTestId('ses-link').getAttribute('href')).resolves.toBe(
      r.stack.urls.sesViewer,
    );
    expect(r.log.filter((line) => line.startsWith('pageerror'))).toEqual([]);
    await screenshot(page, 'inbox-page-live');
  }, 90_000);

  it('keeps only a window of rows in the DOM and loads more pages as it scrolls', async () => {
    const r = required(rig);
    const total = 75;
    await publishHistory(
      r,
      'scroll-sam',
      Array.from({ length: total }, (_, n) => ({ title: `Item ${n}` })),
    );
    const page = await openPage(r, required(context));
    await signIn(r, page, 'scroll-sam');
    await openFeed(page);
    const poll = { timeout: ARRIVAL_MS, message: failure(r)() };

    await expect.poll(() => text(page, 'list-status'), poll).toMatch(/loaded; scroll for more/);
    const viewport = page.getByTestId('notification-viewport');
    // Scroll to the end until every page is loaded; the cursor ends the list.
    await expect
      .poll(
        async () => {
          await viewport.evaluate((element) => {
            element.scrollTop = element.scrollHeight;
          });
          return text(page, 'list-status');
        },
        { ...poll, interval: 200 },
      )
      .toBe(`${total} shown, that is all.`);
    // Every item is loaded, but only the rows in view (and a few around) are elements.
    const rows = await page.getByTestId('notification-item').count();
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(40);
  }, 90_000);
});
