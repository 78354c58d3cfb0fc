/**
 * Keeps the browser tabs of one user in step without a round trip: a `BroadcastChannel`
 * per tenant and user carries the badge counts and each item change made in one tab to
 * the others. The server's `state` frames reach every tab too; this is the faster path,
 * and the one that still works while a tab's socket is reconnecting.
 */
import type { BadgeCounts, InboxNotification } from '../herald-client';

export type ItemChange = Partial<
  Pick<InboxNotification, 'read' | 'seen' | 'archived' | 'interacted' | 'snoozedUntil'>
>;

export type SyncMessage =
  | { kind: 'badge'; counts: BadgeCounts }
  | { kind: 'item'; id: string; change: ItemChange }
  /** Many items changed at once (mark all read, a bulk action): reload. */
  | { kind: 'reload' };

export class TabSync {
  private readonly channel: BroadcastChannel | undefined;

  constructor(tenant: string, user: string, receive: (message: SyncMessage) => void) {
    // Older browsers without BroadcastChannel still get the server's state frames.
    if (typeof BroadcastChannel !== 'function') return;
    this.channel = new BroadcastChannel(`herald-inbox:${tenant}:${user}`);
    this.channel.onmessage = (event: MessageEvent<SyncMessage>) => receive(event.data);
  }

  post(message: SyncMessage): void {
    this.channel?.postMessage(message);
  }

  close(): void {
    this.channel?.close();
  }
}
