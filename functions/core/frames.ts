/**
 * Server -> client WebSocket frames (DESIGN.md "WebSocket"), built in one place so every
 * route and the fan-out speak the same contract.
 */
import type { Change, Notification } from './model';

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
  /** The user's state hash (app keys with Herald's `unread` and `unseen`), counts also on top. */
  | {
      type: 'state';
      unread: number;
      unseen: number;
      state: Record<string, string | number | boolean>;
    }
  /** A watched user's first connection opened, or their last one closed (topic `presence.<user>`). */
  | { type: 'presence'; user: string; online: boolean };

export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

export function notificationFrame(notification: Notification): string {
  return encodeFrame({ type: 'notification', notification });
}

export function changeFrame(change: Change): string {
  return encodeFrame({ type: 'change', change });
}
