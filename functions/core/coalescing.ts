/**
 * Coalescing by `collapseKey` (Pryv's debounce, trailing edge): envelopes with the same key
 * for the same recipient within a window become ONE stored notification and ONE push,
 * carrying the latest of them by publish time. The latest is never lost.
 *
 * Why it is built this way:
 * - Envelopes of one key arrive in different SQS batches, handled by concurrent Lambdas, so
 *   the window lives in a shared slot (`CollapseStore`, one item per recipient and key). The
 *   first envelope of a window claims the slot; later ones only overwrite its `latest` when
 *   newer, with a conditional write, and are done. The claimant sleeps until the window
 *   ends, closes it (after which nothing joins it), stores and settles the latest, then pushes.
 * - Every envelope's own SQS message stays in flight until the envelope is safely in the slot,
 *   and the claimant's until its window is settled. A claimant that dies is redelivered; it
 *   recognises its window (the window id is its candidate id) and finishes it. An envelope
 *   that finds a window ended long ago and never settled adopts it, so a lost claimant delays
 *   the latest by `staleAfterMs` at most, not by the queue's visibility timeout.
 * - A settled slot keeps what it delivered, so an envelope older than that (out of order, or
 *   re-published, which the event ledger maps to its first publish time) changes nothing.
 * - Within one SQS batch, envelopes of one slot gather in memory behind the first of them
 *   (its "group"), so a batch costs one slot write per key instead of one per envelope.
 *   Members wait for the group's outcome, so their messages stay in flight as long as the
 *   slot does not hold what they carried.
 */
import type { Envelope, Recipient } from './model';
import type {
  Clock,
  CollapseCandidate,
  CollapseSlot,
  CollapseSlotState,
  CollapseStore,
} from './ports';

export interface CoalescingSettings {
  /** How long a window gathers envelopes of one key; 0 turns coalescing off. */
  windowMs: number;
  /** How long past its end a window may stay unsettled before its claimant is presumed gone. */
  staleAfterMs: number;
  /** Pause between looks at a window that ended but has not settled yet. */
  pollMs: number;
}

export const DEFAULT_COALESCING: CoalescingSettings = {
  windowMs: 200,
  staleAfterMs: 2000,
  pollMs: 25,
};

/** A window this invocation finishes once it ends. */
export interface ClaimedWindow {
  slot: CollapseSlot;
  windowId: string;
  windowEnds: number;
  /**
   * Push even if the inbox already holds the latest: this window was resumed or adopted,
   * and whoever stored it before may have died before pushing.
   */
  force: boolean;
  /**
   * Closes the window, has `deliver` store its latest, settles the slot, and returns the
   * latest for the caller to push; undefined when another invocation adopted the window.
   */
  finish(
    deliver: (latest: CollapseCandidate) => Promise<void>,
  ): Promise<CollapseCandidate | undefined>;
}

/** What offering an envelope to a slot leaves its handler to do. */
export type Turn =
  /** Finish a window once it ends: this envelope, or one of its batch, claimed it. */
  | { kind: 'claimant'; window: ClaimedWindow }
  /** Nothing but wait for `done`: an earlier envelope of this batch carries this one. */
  | { kind: 'member'; done: Promise<void> }
  /** Nothing: the slot holds this envelope as the latest of a window another invocation finishes. */
  | { kind: 'joined' }
  /** Nothing: a newer envelope of the key is, or will be, delivered instead. */
  | { kind: 'superseded' }
  /** Push `latest` again: this redelivered envelope's window was settled, maybe never pushed. */
  | { kind: 'delivered'; latest: CollapseCandidate };

/** The envelopes of one slot gathered in one batch, led by the first of them. */
interface Group {
  best: CollapseCandidate;
  /** Ids of every envelope in the group: a window claimed by any of them is the group's. */
  ids: Set<string>;
  /** Ids of envelopes received before (or retried): their settled window is pushed again. */
  redelivered: Set<string>;
  /** The newest candidate the group has put in the slot. */
  written?: CollapseCandidate;
  done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The groups of one batch (one invocation). Groups never span batches: a member waits for
 * its leader, and a batch must not hold its messages for another batch's window.
 */
export class CollapseGroups {
  readonly open = new Map<string, Group>();
}

/** How the refused offer of a group's best is to be answered (see `decide`). */
export type Decision =
  | { kind: 'resume'; windowEnds: number }
  | { kind: 'superseded' }
  | { kind: 'delivered'; latest: CollapseCandidate }
  | { kind: 'retry' }
  | { kind: 'wait' }
  | { kind: 'adopt'; latest: CollapseCandidate };

export function isNewer(
  candidate: CollapseCandidate,
  than: CollapseCandidate | undefined,
): boolean {
  return than === undefined || candidate.id > than.id;
}

function newest(a: CollapseCandidate, b: CollapseCandidate): CollapseCandidate {
  return isNewer(b, a) ? b : a;
}

/**
 * What to do about a slot that refused a group's offer, given the group as it is now.
 * `waitedOut` is true once the group waited as long as a live claimant could need, so a
 * clock that does not move (or moves little) cannot keep it waiting forever.
 */
export function decide(
  slot: CollapseSlotState,
  group: { best: CollapseCandidate; ids: ReadonlySet<string>; redelivered: ReadonlySet<string> },
  now: number,
  settings: Pick<CoalescingSettings, 'staleAfterMs'>,
  waitedOut: boolean,
): Decision {
  const pending = isNewer(group.best, slot.latest);
  if (slot.kind === 'settled') {
    if (pending) return { kind: 'retry' };
    return group.redelivered.has(slot.lastWindowId)
      ? { kind: 'delivered', latest: slot.latest }
      : { kind: 'superseded' };
  }
  // Our own window, claimed by an attempt that did not finish it: finish it now.
  if (group.ids.has(slot.windowId)) return { kind: 'resume', windowEnds: slot.windowEnds };
  const ended = slot.closing || slot.windowEnds <= now;
  if (!ended) return pending ? { kind: 'retry' } : { kind: 'superseded' };
  if (waitedOut || now >= slot.windowEnds + settings.staleAfterMs) {
    return { kind: 'adopt', latest: newest(slot.latest, group.best) };
  }
  // Its claimant delivers something at least as new, or is redelivered and does.
  return pending ? { kind: 'wait' } : { kind: 'superseded' };
}

/** Round trips a group may spend on a slot that changes under it, beyond its waits. */
const MAX_CHANGES = 50;

export interface CoalescerDeps {
  store: CollapseStore;
  clock: Clock;
  settings: CoalescingSettings;
  /** TTL (epoch s) of a slot written at `nowMs`. */
  expiresAt(nowMs: number): number;
}

export function createCoalescer(deps: CoalescerDeps) {
  const { store, clock, settings } = deps;
  // Waits before an unsettled window counts as stale whatever the clock says.
  const maxWaits = Math.ceil((settings.windowMs + settings.staleAfterMs) / settings.pollMs);

  function newGroup(candidate: CollapseCandidate, redelivered: boolean): Group {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A group without members has nobody awaiting `done`; a rejection is then no news.
    done.catch(() => undefined);
    return {
      best: candidate,
      ids: new Set([candidate.id]),
      redelivered: new Set(redelivered ? [candidate.id] : []),
      done,
      resolve,
      reject,
    };
  }

  /** Stops the group gathering: envelopes that come later make (or join) the next window. */
  function release(groups: CollapseGroups, key: string, group: Group): void {
    if (groups.open.get(key) === group) groups.open.delete(key);
  }

  function claimed(
    groups: CollapseGroups,
    key: string,
    group: Group,
    slot: CollapseSlot,
    window: { windowId: string; windowEnds: number; force: boolean },
  ): Turn {
    const finish = async (deliver: (latest: CollapseCandidate) => Promise<void>) => {
      release(groups, key, group);
      try {
        const closed = await store.close(slot, window.windowId);
        if (closed === undefined) {
          // Adopted elsewhere: the adopter delivers what the slot held. Only envelopes that
          // never reached the slot must come back, through their messages' redelivery.
          if (group.written === undefined || isNewer(group.best, group.written)) {
            group.reject(new Error('collapse window was adopted before this batch wrote to it'));
          } else {
            group.resolve();
          }
          return undefined;
        }
        const latest = newest(closed, group.best);
        await deliver(latest);
        await store.settle(slot, window.windowId, latest, deps.expiresAt(clock.now()));
        group.resolve();
        return latest;
      } catch (error) {
        group.reject(error);
        throw error;
      }
    };
    return { kind: 'claimant', window: { slot, ...window, finish } };
  }

  /** The group's first envelope puts the group's best in the slot until the slot takes it. */
  async function lead(
    groups: CollapseGroups,
    key: string,
    group: Group,
    slot: CollapseSlot,
  ): Promise<Turn> {
    const conclude = (turn: Turn): Turn => {
      // Synchronously after the last look at `group.best`: no member slips in unwritten.
      release(groups, key, group);
      group.resolve();
      return turn;
    };
    let waits = 0;
    // Each round trip either settles the group or sees the slot change; a slot that kept
    // changing this long means a bug, not traffic, and must not spin the invocation away.
    for (let round = 0; round < maxWaits + MAX_CHANGES; round++) {
      const candidate = group.best;
      const now = clock.now();
      const offer = await store.offer(
        slot,
        candidate,
        { now, windowEnds: now + settings.windowMs },
        deps.expiresAt(now),
      );
      if (offer.kind === 'claimed') {
        group.written = candidate;
        return claimed(groups, key, group, slot, {
          windowId: candidate.id,
          windowEnds: offer.windowEnds,
          force: group.redelivered.size > 0,
        });
      }
      if (offer.kind === 'joined') {
        group.written = candidate;
        if (isNewer(group.best, candidate)) continue;
        return conclude({ kind: 'joined' });
      }
      const decision = decide(offer.slot, group, now, settings, waits >= maxWaits);
      switch (decision.kind) {
        case 'resume':
          if (offer.slot.kind !== 'open') throw new TypeError('resumed a settled slot');
          // What an earlier attempt wrote is there: the slot's latest is at least as new.
          group.written = offer.slot.latest;
          return claimed(groups, key, group, slot, {
            windowId: offer.slot.windowId,
            windowEnds: decision.windowEnds,
            force: true,
          });
        case 'superseded':
          return conclude({ kind: 'superseded' });
        case 'delivered':
          return conclude({ kind: 'delivered', latest: decision.latest });
        case 'retry':
          continue;
        case 'wait':
          waits++;
          await clock.sleep(settings.pollMs);
          continue;
        case 'adopt': {
          if (offer.slot.kind !== 'open') throw new TypeError('adopted a settled slot');
          const windowEnds = clock.now() + settings.windowMs;
          const adopted = await store.adopt(
            slot,
            { windowId: offer.slot.windowId, latestId: offer.slot.latest.id },
            { windowId: candidate.id, windowEnds, latest: decision.latest },
            deps.expiresAt(now),
          );
          if (!adopted) continue;
          group.written = decision.latest;
          return claimed(groups, key, group, slot, {
            windowId: candidate.id,
            windowEnds,
            force: true,
          });
        }
      }
    }
    throw new Error(`collapse slot ${slot.collapseKey} kept changing`);
  }

  return {
    /**
     * Offers an envelope (already narrowed to the slot's recipient) to its slot. A claimant
     * turn must be finished with `window.finish` after `window.windowEnds`.
     */
    async offer(
      groups: CollapseGroups,
      slot: CollapseSlot,
      candidate: CollapseCandidate,
      redelivered: boolean,
    ): Promise<Turn> {
      const key = slotKey(slot);
      const gathering = groups.open.get(key);
      if (gathering) {
        if (isNewer(candidate, gathering.best)) gathering.best = candidate;
        gathering.ids.add(candidate.id);
        if (redelivered) gathering.redelivered.add(candidate.id);
        return { kind: 'member', done: gathering.done };
      }
      const group = newGroup(candidate, redelivered);
      groups.open.set(key, group);
      try {
        return await lead(groups, key, group, slot);
      } catch (error) {
        release(groups, key, group);
        group.reject(error);
        throw error;
      }
    },
  };
}

export type Coalescer = ReturnType<typeof createCoalescer>;

/** The envelope a slot keeps: addressed to the slot's recipient only, so it stays small. */
export function slotEnvelope(envelope: Envelope, recipient: Recipient): Envelope {
  return recipient.kind === 'user' ? { ...envelope, to: { users: [recipient.userId] } } : envelope;
}

function slotKey(slot: CollapseSlot): string {
  const { recipient } = slot;
  const who =
    recipient.kind === 'user' ? `u\u0000${recipient.userId}` : `t\u0000${recipient.topic}`;
  const kind = slot.live === true ? 'live' : 'inbox';
  return `${recipient.tenant}\u0000${who}\u0000${kind}\u0000${slot.collapseKey}`;
}
