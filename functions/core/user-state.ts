/**
 * The per-user state hash (issue 14, Notify's state): keys services set, increment and
 * unset for a user, beside Herald's own `unread` and `unseen`, which no app can write.
 * This module holds the rules: what a change may say, the limits of a hash, how a change
 * applies, and the view (and `state` frame) a client sees.
 */
import * as z from 'zod';
import { BadRequestError } from './errors';
import { encodeFrame } from './frames';
import type { AppState, StateChange, StateValue } from './model';
import { isStorableNumber } from './plain-json';

export type { AppState, StateChange, StateValue };

export const STATE_LIMITS = {
  /** App keys in one user's hash. */
  keys: 64,
  keyLength: 64,
  stringLength: 256,
  /** The app keys' JSON text. */
  bytes: 8 * 1024,
} as const;

const KEY = /^[A-Za-z0-9._:-]{1,64}$/;

/** Keys Herald keeps itself; an app can never write them (nor any key starting `herald`). */
export const HERALD_KEYS = ['unread', 'unseen'] as const;

export function isReservedKey(key: string): boolean {
  return (HERALD_KEYS as readonly string[]).includes(key) || /^herald/i.test(key);
}

/** Why a key may not be written, or undefined when it may. */
function keyProblem(key: string): string | undefined {
  if (!KEY.test(key)) return 'keys must be 1 to 64 characters of [A-Za-z0-9._:-]';
  if (isReservedKey(key)) {
    return `"${key}" is kept by Herald (unread, unseen and herald* keys): apps cannot write it`;
  }
  return undefined;
}

/** Adds an issue at each key that may not be written (zod's record keys lose their messages). */
function checkKeys(keys: readonly string[], ctx: z.RefinementCtx, at: (n: number) => PropertyKey) {
  keys.forEach((key, n) => {
    const problem = keyProblem(key);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [at(n)], message: problem });
  });
}

const storableNumber = z
  .number({ error: 'must be a number' })
  .refine(isStorableNumber, `numbers must be finite, at most ${Number.MAX_SAFE_INTEGER} in size`);

const stateValue = z.union(
  [
    z
      .string()
      .max(
        STATE_LIMITS.stringLength,
        `strings hold at most ${STATE_LIMITS.stringLength} characters`,
      ),
    storableNumber,
    z.boolean(),
  ],
  {
    error: `values must be strings of at most ${STATE_LIMITS.stringLength} characters, finite numbers or booleans`,
  },
);

const keyedRecord = <T extends z.ZodType>(value: T) =>
  z
    .record(z.string(), value)
    .superRefine((record, ctx) => {
      const keys = Object.keys(record);
      if (keys.length > STATE_LIMITS.keys) {
        ctx.addIssue({ code: 'custom', message: `at most ${STATE_LIMITS.keys} keys` });
      }
      checkKeys(keys, ctx, (n) => keys[n] ?? n);
    })
    .default({});

/** `{"set": {k: v}, "incr": {k: n}, "unset": [k]}`: what an envelope's `state` and the HTTP route take. */
export const stateChangeSchema = z
  .strictObject({
    set: keyedRecord(stateValue),
    incr: keyedRecord(storableNumber),
    unset: z
      .array(z.string())
      .max(STATE_LIMITS.keys)
      .superRefine((keys, ctx) => checkKeys(keys, ctx, (n) => n))
      .default([]),
  })
  .superRefine((change, ctx) => {
    const seen = new Set<string>();
    const keys = [...Object.keys(change.set), ...Object.keys(change.incr), ...change.unset];
    if (keys.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'give at least one key in set, incr or unset' });
    }
    for (const key of keys) {
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${key}" appears twice in set, incr and unset: name each key once`,
        });
        return;
      }
      seen.add(key);
    }
  });

/** A change refused against the user's current hash (a limit, or `incr` on a non-number). */
export class StateRefusedError extends BadRequestError {
  override name = 'StateRefusedError';
  constructor(message: string) {
    super(message, 'state_refused');
  }
}

/** The hash after `change`, or a StateRefusedError naming the rule it would break. */
export function applyChange(current: AppState, change: StateChange): AppState {
  const next: AppState = { ...current };
  for (const key of change.unset) delete next[key];
  for (const [key, value] of Object.entries(change.set)) next[key] = value;
  for (const [key, by] of Object.entries(change.incr)) {
    const was = next[key] ?? 0;
    if (typeof was !== 'number') {
      throw new StateRefusedError(`state.incr.${key}: the key holds a ${typeof was}, not a number`);
    }
    const sum = was + by;
    if (!isStorableNumber(sum)) {
      throw new StateRefusedError(`state.incr.${key}: the result would not be a storable number`);
    }
    next[key] = sum;
  }
  const count = Object.keys(next).length;
  if (count > STATE_LIMITS.keys) {
    throw new StateRefusedError(
      `state: a user's hash holds at most ${STATE_LIMITS.keys} keys (this change would make ${count}): unset some first`,
    );
  }
  const bytes = Buffer.byteLength(JSON.stringify(next));
  if (bytes > STATE_LIMITS.bytes) {
    throw new StateRefusedError(
      `state: a user's hash holds at most ${STATE_LIMITS.bytes} bytes of JSON (this change would make ${bytes})`,
    );
  }
  return next;
}

/** What a client sees of a user's state: the counts, and the whole hash with them in it. */
export interface StateView {
  unread: number;
  unseen: number;
  state: Record<string, StateValue>;
}

/**
 * The view of a hash and counts. `unseen` is taken as the unread count where a caller has no
 * seen count of its own. Herald's keys are written last, so no stored key could hide them.
 */
export function stateView(app: AppState, counts: { unread: number; unseen?: number }): StateView {
  const unread = counts.unread;
  const unseen = counts.unseen ?? unread;
  const state: Record<string, StateValue> = {};
  for (const [key, value] of Object.entries(app)) {
    if (!isReservedKey(key)) state[key] = value;
  }
  return { unread, unseen, state: { ...state, unread, unseen } };
}

/** `{"type":"state","unread":N,"unseen":M,"state":{…}}`: on connect, on request, on every change. */
export function stateFrame(view: StateView): string {
  return encodeFrame({ type: 'state', ...view });
}
