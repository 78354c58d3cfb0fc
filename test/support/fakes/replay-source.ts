import type { Notification, Recipient } from '#core/model';
import { notificationTime } from '#core/notification-id';
import type { ReplaySource, StoredNotification } from '#core/ports';
import { recipientKey } from './recipients';

/**
 * Recipients' histories in memory, sorted by id; `queries` records each forward read.
 * `add` stands for the fan-out filing notifications, whose items `DynamoReplaySource` reads:
 * filed at `now()` when set, else at their publish time (the id's).
 */
export class FakeReplaySource implements ReplaySource {
  readonly histories = new Map<string, StoredNotification[]>();
  readonly queries: Array<{ recipient: string; afterId: string; limit: number }> = [];
  now: (() => number) | undefined;

  add(recipient: Recipient, ...notifications: Notification[]): void {
    const key = recipientKey(recipient);
    const filed = notifications.map((notification) => ({
      notification,
      storedAt: this.now?.() ?? notificationTime(notification.id) ?? 0,
    }));
    const history = [...(this.histories.get(key) ?? []), ...filed];
    this.histories.set(
      key,
      history.sort((a, b) => compare(a.notification.id, b.notification.id)),
    );
  }
  /** Its owner deleting a notification: gone from the history, as its tombstone is skipped. */
  remove(recipient: Recipient, id: string): void {
    const key = recipientKey(recipient);
    this.histories.set(
      key,
      (this.histories.get(key) ?? []).filter((n) => n.notification.id !== id),
    );
  }
  async storedAt(recipient: Recipient, id: string): Promise<number | undefined> {
    return (this.histories.get(recipientKey(recipient)) ?? []).find((n) => n.notification.id === id)
      ?.storedAt;
  }
  async after(recipient: Recipient, afterId: string, limit: number): Promise<StoredNotification[]> {
    const key = recipientKey(recipient);
    this.queries.push({ recipient: key, afterId, limit });
    return (this.histories.get(key) ?? [])
      .filter((n) => n.notification.id > afterId)
      .slice(0, limit)
      .map(({ notification, storedAt }) => ({ notification: { ...notification }, storedAt }));
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
