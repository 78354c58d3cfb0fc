import { logger } from '#adapters/powertools';
import type { PresenceReport } from '#core/presence';

/** Logs what a connect's or a disconnect's presence announcement did, and what went wrong. */
export function logPresenceReport(connectionId: string, report: PresenceReport): void {
  if (report.announced) {
    const { delivered, pruned, failed } = report;
    logger.info('presence announced', { connectionId, delivered, pruned, failed });
  }
  for (const { what, error } of report.problems) {
    logger.warn('presence problem', { connectionId, what, error });
  }
}
