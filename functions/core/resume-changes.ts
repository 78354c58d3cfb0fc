/**
 * The `changes` of a `resume` reply: for the user and each topic the connection subscribed
 * to, the last change per kind the client may have missed since its cursor (core/changes).
 */
import { type ChangeLog, changesSince } from './changes';
import { mapLimited } from './limiter';
import type { ChangeSummary, Recipient } from './model';

export interface ChangeReportSettings {
  /**
   * How long before the cursor's time a change may have been recorded and still not have
   * reached the client: reported again rather than risk it missed.
   */
  marginMs: number;
  /** Records (the user's and each topic's) read in parallel. */
  concurrency: number;
}

export interface ChangeReportDeps {
  changes: Pick<ChangeLog, 'last'>;
  settings: ChangeReportSettings;
}

export function createChangeReport(deps: ChangeReportDeps) {
  const { settings } = deps;
  return async function changesFor(
    who: { tenant: string; userId: string; topics: readonly string[] },
    cursor: string,
  ): Promise<ChangeSummary[]> {
    const { tenant, userId } = who;
    const recipients: Recipient[] = [
      { kind: 'user', tenant, userId },
      ...[...new Set(who.topics)].map((topic): Recipient => ({ kind: 'topic', tenant, topic })),
    ];
    const records = await mapLimited(recipients, settings.concurrency, (recipient) =>
      deps.changes.last(recipient),
    );
    return changesSince(records.flat(), cursor, settings.marginMs);
  };
}

export type ChangeReport = ReturnType<typeof createChangeReport>;
