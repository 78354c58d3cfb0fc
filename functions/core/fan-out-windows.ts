/**
 * Collapse windows as the fan-out uses them (the windows themselves are core/coalescing's):
 * offering an envelope to its recipient's slot, doing what the turn it gets says, and
 * finishing a window this invocation claimed.
 */
import { type ClaimedWindow, createCoalescer, slotEnvelope, type Turn } from './coalescing';
import { toNotification } from './envelope';
import type { FanOutBatch } from './fan-out-batch';
import type { FanOutReport } from './fan-out-report';
import { type FanOutSettings, notificationExpiresAt, retainedUntil } from './fan-out-settings';
import type { Envelope } from './model';
import type { Clock, CollapseCandidate, CollapseSlot, CollapseStore, FanOutInbox } from './ports';

export interface FanOutWindowsDeps {
  collapses: CollapseStore;
  inbox: FanOutInbox;
  clock: Clock;
  settings: Pick<FanOutSettings, 'coalescing' | 'retentionSeconds'>;
}

/** What the fan-out does for each turn an offer can get; the others are coalesced and done. */
export interface TurnHandlers {
  /** This envelope, or one of its batch, claimed the window: finish it once it ends. */
  claimant(window: ClaimedWindow): Promise<void> | void;
  /** An earlier envelope of this batch carries this one; `done` settles with its window. */
  member(done: Promise<void>): Promise<void> | void;
  /** The window was settled, its push maybe never made: push its latest again. */
  delivered(latest: CollapseCandidate): Promise<void>;
}

/** The one place a turn is told apart; coalesced envelopes are counted here. */
export async function followTurn(
  turn: Turn,
  report: FanOutReport,
  on: TurnHandlers,
): Promise<void> {
  switch (turn.kind) {
    case 'claimant':
      return on.claimant(turn.window);
    case 'member':
      report.coalesced++;
      return on.member(turn.done);
    case 'joined':
    case 'superseded':
      report.coalesced++;
      return;
    case 'delivered':
      return on.delivered(turn.latest);
  }
}

export function createFanOutWindows(deps: FanOutWindowsDeps) {
  const { settings } = deps;
  const coalescer = createCoalescer({
    store: deps.collapses,
    clock: deps.clock,
    settings: settings.coalescing,
    expiresAt: (nowMs) => retainedUntil(nowMs, settings),
  });

  return {
    /**
     * Offers the envelope, narrowed to the slot's recipient, to the slot. `force` says the
     * message was received before, so a window it settled is pushed again.
     */
    offer(
      slot: CollapseSlot,
      published: { envelope: Envelope; publishedAt: number },
      options: { force: boolean; batch: FanOutBatch },
    ): Promise<Turn> {
      const { envelope, publishedAt } = published;
      const candidate: CollapseCandidate = {
        id: toNotification(envelope, publishedAt).id,
        envelope: slotEnvelope(envelope, slot.recipient),
        publishedAt,
      };
      return coalescer.offer(options.batch.collapse, slot, candidate, options.force);
    },

    /** Sleeps until the last of the claimed windows ends, and never longer than one window. */
    async untilEnded(windows: readonly ClaimedWindow[]): Promise<void> {
      const last = Math.max(...windows.map((window) => window.windowEnds));
      const wait = Math.min(settings.coalescing.windowMs, last - deps.clock.now());
      if (wait > 0) await deps.clock.sleep(wait);
    },

    /**
     * Finishes a claimed window: stores its latest envelope for the recipient, settles the
     * slot, then has `push` push the latest (unless it was stored before and nothing says
     * an earlier attempt may have missed the push).
     */
    async finish(
      window: ClaimedWindow,
      report: FanOutReport,
      push: (latest: CollapseCandidate) => Promise<void>,
    ): Promise<void> {
      let fresh = false;
      const latest = await window.finish(async (candidate) => {
        const notification = toNotification(candidate.envelope, candidate.publishedAt);
        const expiresAt = notificationExpiresAt(notification, settings);
        ({ fresh } = await deps.inbox.store(window.slot.recipient, notification, expiresAt));
      });
      if (latest === undefined) {
        // Another invocation adopted the window and delivers its latest.
        report.coalesced++;
        return;
      }
      if (!fresh) {
        report.duplicates++;
        if (!window.force) return;
      }
      await push(latest);
    },

    /**
     * Finishes a claimed window of change events: has `record` note its latest (nothing
     * is stored), settles the slot, then has `push` push the latest. A change is pushed
     * at least once: a retry pushes again, and clients drop ids they have seen.
     */
    async finishLive(
      window: ClaimedWindow,
      report: FanOutReport,
      steps: {
        record: (latest: CollapseCandidate) => Promise<void>;
        push: (latest: CollapseCandidate) => Promise<void>;
      },
    ): Promise<void> {
      const latest = await window.finish(steps.record);
      if (latest === undefined) {
        report.coalesced++;
        return;
      }
      await steps.push(latest);
    },
  };
}

export type FanOutWindows = ReturnType<typeof createFanOutWindows>;
