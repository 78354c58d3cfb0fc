/**
 * The inbox page's actions in Chromium against the launched local stack: archive and
 * unarchive (the Archived tab), snooze with a preset, mark all read, two tabs of one user
 * agreeing on the badge, and the "document changed" example refetching on a live change.
 * Needs Debian's Chromium (`.ci/run` installs it); without it this test fails, it never skips.
 */
import type { BrowserContext, Page } from 'playwright-core';
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
  SNOOZE,
  screenshot,
  signIn,
  startInboxPageRig,
  text,
  unreadRows,
} from '#test/support/inbox-page';

const SECRET = 'inbox-actions-page-test-secret-of-at-least-32-bytes';

let rig: InboxPageRig | undefined;

beforeAll(async () => {
  rig = await startInboxPageRig(SECRET);
}, 120_000);

afterAll(async () => {
  await rig?.stop();
});

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('beforeAll did not finish: see its error above');
  return value;
}

/** A user with `titles` in their inbox, signed in on a fresh page with the feed open. */
async function signedInWith(
  user: string,
  titles: string[],
): Promise<{ page: Page; context: BrowserContext }> {
  const r = required(rig);
  await publishHistory(
    r,
    user,
    titles.map((title) => ({ title })),
  );
  const context = await newTabs(r);
  const page = await openPage(r, context);
  await signIn(r, page, user);
  await openFeed(page);
  await expect
    .poll(() => itemTitles(page).then((shown) => shown.sort()), {
      timeout: ARRIVAL_MS,
      message: failure(r)(),
    })
    .toEqual([...titles].sort());
  return { page, context };
}

const row = (page: Page, title: string) =>
  page.getByTestId('notification-item').filter({ hasText: title });

describe('the inbox page actions in Chromium', () => {
  // The Archived tab lists with `archived=true` and counts with `counts`: both in one backend change.
  it.skipIf(!FILTERS_AND_COUNTS)(
    'archives and unarchives through the Archived tab',
    async () => {
      const r = required(rig);
      const { page, context } = await signedInWith('archive-amy', ['Keep', 'Put away']);
      const poll = { timeout: ARRIVAL_MS, message: failure(r)() };

      await row(page, 'Put away').getByTestId('toggle-archive').click();
      await expect.poll(() => itemTitles(page), poll).toEqual(['Keep']);
      await expect.poll(() => text(page, 'tab-count-archived'), poll).toBe('1');
      // Archived items count neither unread nor in the All tab.
      await expect.poll(() => text(page, 'unread-badge'), poll).toBe('1');
      await expect.poll(() => text(page, 'tab-count-all'), poll).toBe('1');

      await page.getByTestId('tab-archived').click();
      await expect.poll(() => itemTitles(page), poll).toEqual(['Put away']);
      await screenshot(page, 'inbox-page-archived');
      await row(page, 'Put away').getByTestId('toggle-archive').click();
      await expect.poll(() => itemTitles(page), poll).toEqual([]);
      await page.getByTestId('tab-all').click();
      await expect
        .poll(() => itemTitles(page).then((shown) => shown.sort()), poll)
        .toEqual(['Keep', 'Put away']);
      await expect.poll(() => text(page, 'unread-badge'), poll).toBe('2');
      await context.close();
    },
    90_000,
  );

  it.skipIf(!SNOOZE || !FILTERS_AND_COUNTS)(
    'snoozes with a preset: the item leaves the list and the counts',
    async () => {
      const r = required(rig);
      const { page, context } = await signedInWith('snooze-sid', ['Now', 'Later']);
      const poll = { timeout: ARRIVAL_MS, message: failure(r)() };

      await row(page, 'Later').getByTestId('snooze-select').selectOption('tomorrow');
      await expect.poll(() => itemTitles(page), poll).toEqual(['Now']);
      await expect.poll(() => text(page, 'unread-badge'), poll).toBe('1');
      await expect.poll(() => text(page, 'tab-count-all'), poll).toBe('1');
      // Reloading asks the server: it hides the snoozed item too.
      await page.reload();
      await signIn(r, page, 'snooze-sid');
      await openFeed(page);
      await expect.poll(() => itemTitles(page), poll).toEqual(['Now']);
      await context.close();
    },
    90_000,
  );

  it('marks all read', async () => {
    const r = required(rig);
    const { page, context } = await signedInWith('all-read-al', ['One', 'Two', 'Three']);
    const poll = { timeout: ARRIVAL_MS, message: failure(r)() };

    await expect.poll(() => text(page, 'unread-badge'), poll).toBe('3');
    await page.getByTestId('mark-all-read').click();
    await expect.poll(() => unreadRows(page), poll).toBe(0);
    await expect.poll(() => text(page, 'unread-badge'), poll).toBe('0');
    await expect.poll(() => text(page, 'state-unread'), poll).toBe('0');
    await context.close();
  }, 90_000);

  it('keeps two tabs of one user agreeing on the badge', async () => {
    const r = required(rig);
    const { page: first, context } = await signedInWith('two-tabs-tom', ['A', 'B', 'C']);
    const second = await openPage(r, context);
    await signIn(r, second, 'two-tabs-tom');
    const poll = { timeout: ARRIVAL_MS, message: failure(r)() };
    await expect.poll(() => text(second, 'unread-badge'), poll).toBe('3');

    await row(first, 'B').click();
    await expect.poll(() => text(first, 'unread-badge'), poll).toBe('2');
    await expect.poll(() => text(second, 'unread-badge'), poll).toBe('2');
    // The other tab's list follows too (its feed opened afterwards shows B read).
    await openFeed(second);
    await expect.poll(() => unreadRows(second), poll).toBe(2);

    await second.getByTestId('mark-all-read').click();
    await expect.poll(() => text(first, 'unread-badge'), poll).toBe('0');
    await expect.poll(() => unreadRows(first), poll).toBe(0);
    await screenshot(first, 'inbox-page-two-tabs');
    await context.close();
  }, 90_000);

  it('refetches the document when a live change event arrives', async () => {
    const r = required(rig);
    const context = await newTabs(r);
    const page = await openPage(r, context);
    await signIn(r, page, 'doc-dora');
    const poll = { timeout: ARRIVAL_MS, message: failure(r)() };
    await expect.poll(() => text(page, 'document-version'), poll).toMatch(/^\d+$/);
    const before = Number(await text(page, 'document-version'));

    await page.getByTestId('document-change-button').click();
    await expect.poll(() => text(page, 'document-version'), poll).toBe(String(before + 1));
    await expect.poll(() => text(page, 'document-refetches'), poll).toBe('1');
    // A change event is not a notification: nothing in the inbox, no badge.
    await expect(text(page, 'unread-badge')).resolves.toBe('0');
    await screenshot(page, 'inbox-page-document');
    await context.close();
  }, 90_000);
});
