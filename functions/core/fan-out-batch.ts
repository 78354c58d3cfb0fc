import { CollapseGroups } from './coalescing';
import type { Preferences } from './model';
import type { PreferenceKey } from './ports';

export type PreferenceReader = (
  keys: readonly PreferenceKey[],
) => Promise<Array<Preferences | undefined>>;

interface Asked {
  key: PreferenceKey;
  resolve: (value: Preferences | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * What the records of one SQS batch (one invocation) share: preference lookups made once
 * each, and gathered: every key asked for before the event loop turns goes into one read
 * (records of a batch start together), and the collapse groups that gather a batch's
 * envelopes of one key in memory.
 */
export class FanOutBatch {
  readonly collapse = new CollapseGroups();
  private readonly lookups = new Map<string, Promise<Preferences | undefined>>();
  private pending: Asked[] = [];

  /**
   * One read per key per batch; concurrent askers share it, a failed one is asked again.
   * Keys asked for in the same turn of the event loop go to `read` together (it splits
   * them into requests); every asker passes the same `read`.
   */
  preferences(key: PreferenceKey, read: PreferenceReader): Promise<Preferences | undefined> {
    const id =
      key.userId === undefined
        ? `tenant\u0000${key.tenant}`
        : `user\u0000${key.tenant}\u0000${key.userId}`;
    let found = this.lookups.get(id);
    if (found === undefined) {
      found = new Promise((resolve, reject) => {
        this.pending.push({ key, resolve, reject });
        if (this.pending.length === 1) setImmediate(() => this.dispatch(read));
      });
      found.catch(() => this.lookups.delete(id));
      this.lookups.set(id, found);
    }
    return found;
  }

  private dispatch(read: PreferenceReader): void {
    const asked = this.pending;
    this.pending = [];
    read(asked.map((each) => each.key)).then(
      (values) => {
        for (const [n, each] of asked.entries()) each.resolve(values[n]);
      },
      (error: unknown) => {
        for (const each of asked) each.reject(error);
      },
    );
  }
}
