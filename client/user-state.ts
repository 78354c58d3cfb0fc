/**
 * The user's state hash as the browser client keeps it: the last `state` frame (or `state`
 * reply) it got, with Herald's `unread` and `unseen` inside the hash and on top.
 */
import { isRecord } from './frames';

export type StateValue = string | number | boolean;

export interface UserState {
  unread: number;
  unseen: number;
  /** The app keys services set, with `unread` and `unseen`. */
  state: Record<string, StateValue>;
}

export const EMPTY_STATE: UserState = { unread: 0, unseen: 0, state: { unread: 0, unseen: 0 } };

/**
 * The state a frame or reply carries, or undefined when it carries no count. An older
 * server's `{"unread": N}` reads as a hash of the counts alone.
 */
export function userStateOf(value: Record<string, unknown>): UserState | undefined {
  if (typeof value.unread !== 'number') return undefined;
  const unread = value.unread;
  const unseen = typeof value.unseen === 'number' ? value.unseen : unread;
  const state: Record<string, StateValue> = {};
  if (isRecord(value.state)) {
    for (const [key, each] of Object.entries(value.state)) {
      if (typeof each === 'string' || typeof each === 'number' || typeof each === 'boolean') {
        Object.defineProperty(state, key, { value: each, enumerable: true, writable: true });
      }
    }
  }
  state.unread = unread;
  state.unseen = unseen;
  return { unread, unseen, state };
}

/**
 * `client.state`: the last known state, which may also be called, as the client's `state()`
 * was before it kept the hash, to ask the server again (listeners hear the answer).
 */
export type StateAccessor = UserState & (() => Promise<UserState>);

export function stateAccessor(current: UserState, ask: () => Promise<UserState>): StateAccessor {
  return Object.assign(() => ask(), current);
}
