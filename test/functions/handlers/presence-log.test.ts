import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '#adapters/powertools';
import type { PresenceReport } from '#core/presence';
import { logPresenceReport } from '#handlers/presence-log';

const quiet: PresenceReport = {
  announced: false,
  delivered: 0,
  pruned: 0,
  failed: 0,
  problems: [],
};

beforeEach(() => {
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('logPresenceReport', () => {
  it('logs nothing when nobody was told', () => {
    logPresenceReport('conn-1', quiet);
    expect(logger.info).not.toHaveBeenCalled();
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('logs an announcement’s counts and each problem, keyed by the connection', () => {
    const error = new Error('throttled');
    logPresenceReport('conn-1', {
      announced: true,
      delivered: 3,
      pruned: 1,
      failed: 1,
      problems: [{ what: 'presence push to c9', error }],
    });
    expect(logger.info).toHaveBeenCalledWith('presence announced', {
      connectionId: 'conn-1',
      delivered: 3,
      pruned: 1,
      failed: 1,
    });
    expect(logger.warn).toHaveBeenCalledWith('presence problem', {
      connectionId: 'conn-1',
      what: 'presence push to c9',
      error,
    });
  });
});
