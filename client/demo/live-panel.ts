/**
 * Issue 14 on the page: the user's state hash as the server keeps it (app keys plus
 * Herald's own `unread` and `unseen`), updated by every `state` frame; and a "document
 * changed" example: editing the demo document publishes a live-only change event, and
 * every tab of the user refetches the document when the change arrives.
 */
import type { BadgeCounts } from '../herald-client';
import { editDocument, getDocument, publish } from './dev-api';

/** The badge counts and the whole hash from a `state` frame, old (`{unread}`) or new. */
export function readState(payload: unknown): { badge: BadgeCounts; hash: Record<string, unknown> } {
  const frame = (typeof payload === 'object' && payload !== null ? payload : {}) as {
    unread?: unknown;
    unseen?: unknown;
    state?: unknown;
  };
  const unread = typeof frame.unread === 'number' ? frame.unread : 0;
  const unseen = typeof frame.unseen === 'number' ? frame.unseen : unread;
  const hash =
    typeof frame.state === 'object' && frame.state !== null && !Array.isArray(frame.state)
      ? (frame.state as Record<string, unknown>)
      : { unread, unseen };
  return { badge: { unread, unseen }, hash };
}

export function renderState(list: HTMLElement, hash: Record<string, unknown>): void {
  list.replaceChildren(
    ...Object.keys(hash)
      .sort()
      .flatMap((key) => {
        const term = document.createElement('dt');
        term.textContent = key;
        const value = document.createElement('dd');
        value.dataset.testid = `state-${key}`;
        value.textContent = JSON.stringify(hash[key]);
        return [term, value];
      }),
  );
}

/** The document example's change event: one kind, coalesced by its collapse key. */
export const DOCUMENT_CHANGED = 'document.changed';

export class DocumentExample {
  private refetches = 0;
  private fetching: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly version: HTMLElement,
    private readonly counter: HTMLElement,
  ) {}

  /** The app's edit: a new version, then a change event to the user's live connections. */
  async edit(user: string, tenant: string): Promise<void> {
    const document = await editDocument();
    await publish({
      type: DOCUMENT_CHANGED,
      to: { users: [user] },
      tenant,
      channels: ['live'],
      collapseKey: `document.${document.id}`,
      data: { documentId: document.id, version: document.version },
    });
  }

  /** A change arrived (or was missed while offline): refetch, one fetch at a time. */
  changed(): void {
    if (this.fetching !== undefined) {
      this.again = true;
      return;
    }
    this.fetching = this.refetch().finally(() => {
      this.fetching = undefined;
      if (this.again) {
        this.again = false;
        this.changed();
      }
    });
  }

  /** The first look at the document, when signing in (not counted as a refetch). */
  async load(): Promise<void> {
    this.version.textContent = String((await getDocument()).version);
  }

  private async refetch(): Promise<void> {
    const document = await getDocument();
    this.refetches += 1;
    this.version.textContent = String(document.version);
    this.counter.textContent = String(this.refetches);
  }
}
