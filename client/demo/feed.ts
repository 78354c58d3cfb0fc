/**
 * The inbox feed: the active tab's notifications, loaded a page at a time as the user
 * scrolls (cursor), drawn through a windowed list; the tab counts from one `counts` call;
 * the unread and unseen badges. Changes made here update the loaded items in place and go
 * to the server and to the user's other browser tabs; nothing is refetched wholesale on an
 * event.
 */
import type { BadgeCounts, InboxApi, InboxNotification } from '../herald-client';
import { renderRow } from './notification-row';
import type { ItemChange, SyncMessage, TabSync } from './tab-sync';
import { COUNT_FILTERS, matches, renderTabs, TABS, type Tab } from './tabs';
import { VirtualList } from './virtual-list';

const PAGE_SIZE = 30;
const ROW_HEIGHT = 96;
/** Bursts of events (a publish to many, a bulk action) become one counts call. */
const COUNTS_DEBOUNCE_MS = 300;

export interface FeedElements {
  viewport: HTMLElement;
  spacer: HTMLElement;
  list: HTMLElement;
  tabs: HTMLElement;
  status: HTMLElement;
  unreadBadge: HTMLElement;
  unseenBadge: HTMLElement;
}

export class Feed {
  private tab: Tab = TABS[0] as Tab;
  private items: InboxNotification[] = [];
  private cursor: string | undefined;
  private exhausted = false;
  private loading = false;
  /** Bumped when the list starts over, so a page asked for before is dropped. */
  private generation = 0;
  private counts: Record<string, number> | undefined;
  private countsTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly view: VirtualList<InboxNotification>;
  badge: BadgeCounts = { unread: 0, unseen: 0 };

  constructor(
    private readonly inbox: InboxApi,
    private readonly ui: FeedElements,
    private readonly sync: TabSync,
    private readonly showError: (error: unknown) => void,
  ) {
    this.view = new VirtualList({
      viewport: ui.viewport,
      spacer: ui.spacer,
      list: ui.list,
      rowHeight: ROW_HEIGHT,
      renderRow: (item) =>
        renderRow(item, {
          open: (it) => void this.markRead(it, true),
          toggleRead: (it) => void this.markRead(it, !it.read),
          toggleArchived: (it) => void this.setArchived(it, it.archived !== true),
          snooze: (it, until) => void this.snooze(it, until),
          press: (it, index) => void this.press(it, index),
        }),
      nearEnd: () => void this.loadMore(),
    });
    this.drawTabs();
  }

  /** History on sign-in: the first page of the tab, and the counts. */
  async start(): Promise<void> {
    await Promise.all([this.reload(), this.refreshCounts()]);
  }

  /** Draws again after the feed became visible (a hidden viewport has no height). */
  redraw(): void {
    this.view.render();
  }

  selectTab(name: string): void {
    const tab = TABS.find((candidate) => candidate.name === name);
    if (tab === undefined || tab === this.tab) return;
    this.tab = tab;
    this.drawTabs();
    this.view.scrollToTop();
    void this.reload();
  }

  /** Starts the active tab over from its first page. */
  async reload(): Promise<void> {
    this.generation += 1;
    this.items = [];
    this.cursor = undefined;
    this.exhausted = false;
    this.loading = false;
    this.view.show(this.items);
    await this.loadMore();
  }

  /** The next page, if there is one and none is on its way. */
  async loadMore(): Promise<void> {
    if (this.loading || this.exhausted) return;
    this.loading = true;
    const generation = this.generation;
    this.ui.status.textContent = 'Loading…';
    try {
      const page = await this.inbox.list({
        ...this.tab.filter,
        limit: PAGE_SIZE,
        ...(this.cursor === undefined ? {} : { cursor: this.cursor }),
      });
      if (generation !== this.generation) return;
      const known = new Set(this.items.map((item) => item.id));
      this.items = this.items.concat(page.items.filter((item) => !known.has(item.id)));
      this.cursor = page.cursor;
      this.exhausted = page.cursor === undefined;
      this.loading = false;
      this.ui.status.textContent = this.statusText();
      this.view.show(this.items);
    } catch (error) {
      if (generation !== this.generation) return;
      this.loading = false;
      this.exhausted = true;
      this.ui.status.textContent = 'Could not load: see the message below.';
      this.showError(error);
    }
  }

  /** A notification pushed live: it joins the list if the active tab would list it. */
  receive(notification: InboxNotification): void {
    if (
      matches(this.tab.filter, notification) &&
      !this.items.some((i) => i.id === notification.id)
    ) {
      // Newest first by id; a replay after a reconnect may be older than what is shown.
      const at = this.items.findIndex((item) => item.id < notification.id);
      this.items = this.items.slice();
      this.items.splice(at === -1 ? this.items.length : at, 0, notification);
      this.view.show(this.items);
      this.ui.status.textContent = this.statusText();
    }
    this.scheduleCounts();
  }

  /** The server's counts (a `state` frame or an answer): the badges, here and in other tabs. */
  setBadge(counts: BadgeCounts, options: { share: boolean }): void {
    this.badge = { unread: Math.max(0, counts.unread), unseen: Math.max(0, counts.unseen) };
    show(this.ui.unreadBadge, this.badge.unread);
    show(this.ui.unseenBadge, this.badge.unseen);
    if (options.share) this.sync.post({ kind: 'badge', counts: this.badge });
  }

  /** The counts changed somewhere: redraw the tab counts soon, once per burst. */
  scheduleCounts(): void {
    if (this.countsTimer !== undefined) return;
    this.countsTimer = setTimeout(() => {
      this.countsTimer = undefined;
      void this.refreshCounts();
    }, COUNTS_DEBOUNCE_MS);
  }

  /** What another tab of this user did. */
  apply(message: SyncMessage): void {
    if (message.kind === 'badge') this.setBadge(message.counts, { share: false });
    else if (message.kind === 'item') this.change(message.id, message.change, { share: false });
    else void this.reload().then(() => this.scheduleCounts());
  }

  /** The bell opened the feed: everything is seen now. */
  async seenAll(): Promise<void> {
    this.setBadge({ ...this.badge, unseen: 0 }, { share: false });
    for (const item of this.items) item.seen = true;
    await this.answer(this.inbox.seenAll());
  }

  async markAllRead(): Promise<void> {
    this.setBadge({ ...this.badge, unread: 0 }, { share: false });
    this.items = this.items
      .map((item) => ({ ...item, read: true, seen: true }))
      .filter((item) => matches(this.tab.filter, item));
    this.view.show(this.items);
    await this.answer(this.inbox.readAll());
    this.sync.post({ kind: 'reload' });
    this.scheduleCounts();
  }

  /** Archives everything read, in one bulk request, then starts the tab over. */
  async archiveRead(): Promise<void> {
    await this.answer(this.inbox.bulk('archive', { read: true }));
    this.sync.post({ kind: 'reload' });
    await this.reload();
    this.scheduleCounts();
  }

  private async markRead(item: InboxNotification, read: boolean): Promise<void> {
    if (item.read === read) return;
    this.change(item.id, { read, ...(read ? { seen: true } : {}) }, { share: true });
    this.nudge(read ? -1 : 1);
    await this.answer(read ? this.inbox.markRead(item.id) : this.inbox.markUnread(item.id));
  }

  private async setArchived(item: InboxNotification, archived: boolean): Promise<void> {
    this.change(item.id, { archived }, { share: true });
    await this.answer(archived ? this.inbox.archive(item.id) : this.inbox.unarchive(item.id));
  }

  private async snooze(item: InboxNotification, until: Date): Promise<void> {
    this.change(item.id, { snoozedUntil: until.toISOString() }, { share: true });
    await this.answer(this.inbox.snooze(item.id, until));
  }

  private async press(item: InboxNotification, index: number): Promise<void> {
    const action = item.actions?.[index];
    if (action === undefined) return;
    // Opened in the click itself, or the browser blocks the pop-up.
    window.open(action.url, '_blank', 'noopener');
    if (!item.read) this.nudge(-1);
    this.change(item.id, { interacted: true, read: true, seen: true }, { share: true });
    await this.answer(this.inbox.interact(item.id, index));
  }

  /** Applies a change to a loaded item; it leaves the list if the tab no longer matches it. */
  private change(id: string, change: ItemChange, options: { share: boolean }): void {
    const index = this.items.findIndex((item) => item.id === id);
    if (index !== -1) {
      const updated = { ...(this.items[index] as InboxNotification), ...change };
      this.items = this.items.slice();
      if (matches(this.tab.filter, updated)) this.items[index] = updated;
      else this.items.splice(index, 1);
      this.view.show(this.items);
      this.ui.status.textContent = this.statusText();
    }
    if (options.share) this.sync.post({ kind: 'item', id, change });
    this.scheduleCounts();
  }

  /** The unread badge moves at once; the server's answer then sets it exactly. */
  private nudge(unreadDelta: number): void {
    this.setBadge({ ...this.badge, unread: this.badge.unread + unreadDelta }, { share: false });
  }

  private async answer(call: Promise<BadgeCounts>): Promise<void> {
    try {
      this.setBadge(await call, { share: true });
    } catch (error) {
      this.showError(error);
      this.scheduleCounts();
    }
  }

  private async refreshCounts(): Promise<void> {
    try {
      const result = await this.inbox.counts(COUNT_FILTERS);
      this.counts = result.counts;
      this.setBadge(result, { share: false });
    } catch {
      // A server without counts yet: the badges still come from the unread count.
      this.counts = undefined;
      await this.inbox.badge().then(
        (counts) => this.setBadge(counts, { share: false }),
        (error: unknown) => this.showError(error),
      );
    }
    this.drawTabs();
  }

  private drawTabs(): void {
    renderTabs(this.ui.tabs, this.tab.name, this.counts, (name) => this.selectTab(name));
  }

  private statusText(): string {
    if (this.items.length === 0) return this.exhausted ? 'Nothing here.' : '';
    return this.exhausted
      ? `${this.items.length} shown, that is all.`
      : `${this.items.length} loaded; scroll for more.`;
  }
}

function show(badge: HTMLElement, count: number): void {
  badge.textContent = String(count);
  badge.dataset.count = String(count);
}
