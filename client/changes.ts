/**
 * Change events (`channels: ["live"]`): each live `change` frame, and each kind a `resume`
 * reports changed while the client was away, emitted as a `change` event, once per id. The
 * newest change id seen is the cursor a later `resume` reports changes since.
 */
import type { Change, ChangeSummary } from '../functions/core/model';
import type { EventSink } from './emitter';
import { isRecord } from './frames';
import { RecentIds } from './resume';

/**
 * What a `change` listener hears. `kind` is the change's `collapseKey`, else its `type`:
 * what to refetch. `resumed` is true for a kind a `resume` reported changed while the
 * client was away; such an event has no `eventId`, `data` or `topic`.
 */
export type ChangeEvent =
  | (Change & { kind: string; resumed: false })
  | (ChangeSummary & { resumed: true });

export interface ChangeEvents {
  change: ChangeEvent;
}

export class ChangeFeed {
  private readonly recentIds: RecentIds;
  private newestId: string | undefined;

  constructor(
    private readonly events: EventSink<ChangeEvents>,
    recentIdsLimit: number,
  ) {
    this.recentIds = new RecentIds(recentIdsLimit);
  }

  /** The newest change id seen: `resume` reports the kinds changed since. */
  get lastId(): string | undefined {
    return this.newestId;
  }

  /** A pushed `change` frame's change. */
  receive(change: unknown): void {
    if (!isRecord(change) || !isChangeLike(change)) return;
    if (!this.take(change.id)) return;
    const kind = typeof change.collapseKey === 'string' ? change.collapseKey : change.type;
    this.events.emit('change', { ...(change as unknown as Change), kind, resumed: false });
  }

  /** The `changes` of a `resume` reply: oldest first, each kind once. */
  resumed(changes: unknown): void {
    if (!Array.isArray(changes)) return;
    for (const entry of changes) {
      if (!isRecord(entry) || !isChangeLike(entry) || typeof entry.kind !== 'string') continue;
      if (!this.take(entry.id)) continue;
      const { kind, type, id, at } = entry;
      this.events.emit('change', { kind, type, id, at, resumed: true });
    }
  }

  /** Remembers the id; false for one already emitted. */
  private take(id: string): boolean {
    if (!this.recentIds.add(id)) return false;
    if (this.newestId === undefined || id > this.newestId) this.newestId = id;
    return true;
  }
}

function isChangeLike(
  value: Record<string, unknown>,
): value is Record<string, unknown> & { id: string; type: string; at: string } {
  return (
    typeof value.id === 'string' && typeof value.type === 'string' && typeof value.at === 'string'
  );
}
