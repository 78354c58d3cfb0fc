/**
 * Server -> client WebSocket frames (DESIGN.md "WebSocket"), built in one place so every
 * route and the fan-out speak the same contract.
 */
import type { Change, InboxCounts, Notification } from './model';

export interface ErrorBody {
  code: string;
  message: string;
}

export type ServerFrame =
  | { type: 'notification'; notification: Notification }
  /** A change event (`channels: ["live"]`): pushed only, never stored. */
  | { type: 'change'; change: Change }
  | { type: 'pong'; requestId?: string }
  | { type: 'reply'; requestId?: string; ok: true; result: Record<string, unknown> }
  | { type: 'reply'; requestId: string; ok: false; error: ErrorBody }
  | { type: 'error'; error: ErrorBody }
  /**
   * The user's counts: top-level `unread`/`unseen` for old clients, and `state`, the
   * user's whole state hash with Herald's own keys in it (issue 14 adds the app keys).
   */
  | { type: 'state'; unread: number; unseen: number; state: Record<string, unknown> }
  /** A watched user's first connection opened, or their last one closed (topic `presence.<user>`). */
  | { type: 'presence'; user: string; online: boolean };

export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

export function notificationFrame(notification: Notification): string {
  return encodeFrame({ type: 'notification', notification });
}

/** The one builder of the `state` frame: every push of the counts goes through it. */
export function stateFrame(counts: InboxCounts, appState: Record<string, unknown> = {}): string {
  return encodeFrame({
    type: 'state',
    unread: counts.unread,
    unseen: counts.unseen,
    state: { ...appState, unread: counts.unread, unseen: counts.unseen },
  });
}

export function changeFrame(change: Change): string {
  return encodeFrame({ type: 'change', change });
}
