import { parseEnvelope } from '#core/envelope';
import type {
  CollapseCandidate,
  CollapseOffer,
  CollapseSlot,
  CollapseSlotState,
  CollapseStore,
} from '#core/ports';
import { recipientKey } from './recipients';

interface FakeSlotItem {
  windowId?: string;
  windowEnds?: number;
  closing?: boolean;
  latest: CollapseCandidate;
  lastWindowId?: string;
  expiresAt: number;
}

/**
 * Collapse slots in a map, with the conditions `DynamoCollapseStore` writes with. Shared by
 * several fan-outs, it stands for the table that concurrent invocations share. What it
 * hands back went through JSON and the envelope schema, as what the table hands back does.
 */
export class FakeCollapseStore implements CollapseStore {
  readonly items = new Map<string, FakeSlotItem>();
  /** Every call, in order (`offer`, `adopt`, `close`, `settle`), so tests can count writes. */
  readonly calls: string[] = [];
  /** Operations that throw, as DynamoDB failing would. */
  readonly failOn = new Set<'offer' | 'adopt' | 'close' | 'settle'>();

  static keyOf(slot: CollapseSlot): string {
    return `${recipientKey(slot.recipient)}#${slot.live === true ? 'live#' : ''}${slot.collapseKey}`;
  }

  state(slot: CollapseSlot): CollapseSlotState | undefined {
    const item = this.items.get(FakeCollapseStore.keyOf(slot));
    return item && FakeCollapseStore.toState(item);
  }

  async offer(
    slot: CollapseSlot,
    candidate: CollapseCandidate,
    window: { now: number; windowEnds: number },
    expiresAt: number,
  ): Promise<CollapseOffer> {
    this.record('offer');
    const key = FakeCollapseStore.keyOf(slot);
    const item = this.items.get(key);
    const latest = stored(candidate);
    if (item === undefined || (item.windowEnds === undefined && item.latest.id < candidate.id)) {
      this.items.set(key, {
        ...item,
        latest,
        windowId: candidate.id,
        windowEnds: window.windowEnds,
        expiresAt,
      });
      return { kind: 'claimed', windowEnds: window.windowEnds };
    }
    if (
      item.windowId !== undefined &&
      item.windowEnds !== undefined &&
      item.windowEnds > window.now &&
      !item.closing &&
      item.latest.id < candidate.id
    ) {
      Object.assign(item, { latest, expiresAt });
      return { kind: 'joined', windowId: item.windowId, windowEnds: item.windowEnds };
    }
    return { kind: 'refused', slot: FakeCollapseStore.toState(item) };
  }

  async adopt(
    slot: CollapseSlot,
    stale: { windowId: string; latestId: string },
    claim: { windowId: string; windowEnds: number; latest: CollapseCandidate },
    expiresAt: number,
  ): Promise<boolean> {
    this.record('adopt');
    const item = this.items.get(FakeCollapseStore.keyOf(slot));
    if (item?.windowId !== stale.windowId || item.latest.id !== stale.latestId) return false;
    Object.assign(item, {
      windowId: claim.windowId,
      windowEnds: claim.windowEnds,
      latest: stored(claim.latest),
      closing: undefined,
      expiresAt,
    });
    return true;
  }

  async close(slot: CollapseSlot, windowId: string): Promise<CollapseCandidate | undefined> {
    this.record('close');
    const item = this.items.get(FakeCollapseStore.keyOf(slot));
    if (item?.windowId !== windowId) return undefined;
    item.closing = true;
    return stored(item.latest);
  }

  async settle(
    slot: CollapseSlot,
    windowId: string,
    delivered: CollapseCandidate,
    expiresAt: number,
  ): Promise<boolean> {
    this.record('settle');
    const key = FakeCollapseStore.keyOf(slot);
    const item = this.items.get(key);
    if (item?.windowId !== windowId) return false;
    this.items.set(key, { latest: stored(delivered), lastWindowId: windowId, expiresAt });
    return true;
  }

  private record(operation: 'offer' | 'adopt' | 'close' | 'settle'): void {
    this.calls.push(operation);
    if (this.failOn.has(operation)) throw new Error(`collapse store ${operation} failed`);
  }

  private static toState(item: FakeSlotItem): CollapseSlotState {
    const latest = stored(item.latest);
    if (item.windowId !== undefined && item.windowEnds !== undefined) {
      const { windowId, windowEnds } = item;
      return { kind: 'open', windowId, windowEnds, closing: item.closing === true, latest };
    }
    return { kind: 'settled', lastWindowId: item.lastWindowId ?? '', latest };
  }
}

/** A candidate as storage gives it back: a copy, its envelope read again through the schema. */
function stored(candidate: CollapseCandidate): CollapseCandidate {
  return {
    id: candidate.id,
    envelope: parseEnvelope(JSON.parse(JSON.stringify(candidate.envelope))),
    publishedAt: candidate.publishedAt,
  };
}
