/**
 * The inbox's tabs: each is a named filter, and one `counts` call returns the number for
 * every tab at once. A product puts its own tags here.
 */
import type { InboxFilter, InboxNotification } from '../herald-client';

export interface Tab {
  name: string;
  label: string;
  filter: InboxFilter;
}

export const TABS: readonly Tab[] = [
  { name: 'all', label: 'All', filter: {} },
  { name: 'unread', label: 'Unread', filter: { read: false } },
  { name: 'mention', label: 'Mentions', filter: { tag: 'mention' } },
  { name: 'billing', label: 'Billing', filter: { tag: 'billing' } },
  { name: 'archived', label: 'Archived', filter: { archived: true } },
];

export const COUNT_FILTERS: Record<string, InboxFilter> = Object.fromEntries(
  TABS.map((tab) => [tab.name, tab.filter]),
);

/**
 * Whether a notification belongs in a tab, judged in the page: a live one is prepended
 * only where the server would list it, and one changed here leaves the tabs it no longer
 * matches without a refetch.
 */
export function matches(filter: InboxFilter, item: InboxNotification): boolean {
  if ((item.archived === true) !== (filter.archived === true)) return false;
  if (isSnoozed(item) !== (filter.snoozed === true)) return false;
  if (filter.read !== undefined && item.read !== filter.read) return false;
  if (filter.seen !== undefined && (item.seen === true) !== filter.seen) return false;
  if (filter.tag !== undefined && !(item.tags ?? []).includes(filter.tag)) return false;
  if (filter.type !== undefined && item.type !== filter.type) return false;
  if (filter.topic !== undefined && item.topic !== filter.topic) return false;
  return true;
}

function isSnoozed(item: InboxNotification): boolean {
  return item.snoozedUntil !== undefined && Date.parse(item.snoozedUntil) > Date.now();
}

export function renderTabs(
  nav: HTMLElement,
  active: string,
  counts: Record<string, number> | undefined,
  select: (name: string) => void,
): void {
  nav.replaceChildren(
    ...TABS.map((tab) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.role = 'tab';
      button.dataset.testid = `tab-${tab.name}`;
      button.setAttribute('aria-selected', String(tab.name === active));
      button.textContent = tab.label;
      const count = document.createElement('span');
      count.className = 'count';
      count.dataset.testid = `tab-count-${tab.name}`;
      const value = counts?.[tab.name];
      count.textContent = value === undefined ? '–' : String(value);
      button.append(count);
      button.addEventListener('click', () => select(tab.name));
      return button;
    }),
  );
}
