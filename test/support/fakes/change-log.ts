import type { ChangeLog, RecordedChange } from '#core/changes';
import type { Recipient } from '#core/model';
import { recipientKey } from './recipients';

/** Each recipient's last change per kind in a map, kept and pruned as `DynamoChangeLog` does. */
export class FakeChangeLog implements ChangeLog {
  readonly records = new Map<string, Map<string, RecordedChange>>();
  /** Every `note`, in order, so tests can count writes. */
  readonly notes: Array<{ recipient: Recipient; change: RecordedChange }> = [];
  /** Makes `note` throw, as DynamoDB failing would. */
  failNotes = false;

  async note(
    recipient: Recipient,
    change: RecordedChange,
    options: { expiresAt: number; keep: number },
  ): Promise<void> {
    if (this.failNotes) throw new Error('change log unavailable');
    this.notes.push({ recipient, change: { ...change } });
    const key = recipientKey(recipient);
    const kinds = this.records.get(key) ?? new Map<string, RecordedChange>();
    this.records.set(key, kinds);
    const known = kinds.get(change.kind);
    if (known !== undefined && known.id >= change.id) return;
    kinds.set(change.kind, { ...change });
    const excess = kinds.size - options.keep;
    if (excess <= 0) return;
    const oldest = [...kinds.values()]
      .sort((a, b) => a.recordedAt - b.recordedAt || (a.id < b.id ? -1 : 1))
      .slice(0, excess);
    for (const each of oldest) kinds.delete(each.kind);
  }

  async last(recipient: Recipient): Promise<RecordedChange[]> {
    const kinds = this.records.get(recipientKey(recipient));
    return kinds === undefined ? [] : [...kinds.values()].map((change) => ({ ...change }));
  }
}
