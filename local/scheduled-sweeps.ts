/**
 * The local stand-ins for Herald's every-minute schedules: the connection sweep and the
 * snooze wake-up, each the deployed handler on a timer (`connection-sweeper.ts`).
 */

import { type Clock, systemClock } from '#core/ports';
import type { SnoozeSweepResult } from '#handlers/snooze-sweep';
import {
  type ConnectionSweeper,
  DEFAULT_CONNECTION_SWEEP_MS,
  type Sweeper,
  startConnectionSweeper,
} from './connection-sweeper';
import type { loadHandlers } from './stack-handlers';

/** Between runs of the snooze wake-up (a minute's schedule in AWS). */
export const DEFAULT_SNOOZE_SWEEP_MS = 30_000;

export interface ScheduledSweepOptions {
  /** Between runs of the connection sweep (a minute's schedule in AWS); 30 s unless given. */
  connectionSweepIntervalMs?: number;
  /** Between runs of the snooze wake-up; 30 s unless given. */
  snoozeSweepIntervalMs?: number;
  /**
   * The wake-up's clock: the system's unless given. A test passes one it moves forward, so
   * that a snooze an hour out is due without waiting; never move it back (see README "Snooze").
   */
  snoozeClock?: Clock;
}

export interface ScheduledSweeps {
  connections: ConnectionSweeper;
  snoozes: Sweeper<SnoozeSweepResult>;
  stop(): Promise<void>;
}

type Handlers = Awaited<ReturnType<typeof loadHandlers>>;

export function startScheduledSweeps(
  handlers: Handlers,
  options: ScheduledSweepOptions,
  log: (message: string) => void,
): ScheduledSweeps {
  const connections = startConnectionSweeper({
    handler: handlers.connectionSweep,
    intervalMs: options.connectionSweepIntervalMs ?? DEFAULT_CONNECTION_SWEEP_MS,
    log,
  });
  const snoozes = startConnectionSweeper({
    handler: handlers.wireSnoozeSweep(options.snoozeClock ?? systemClock),
    intervalMs: options.snoozeSweepIntervalMs ?? DEFAULT_SNOOZE_SWEEP_MS,
    log,
    name: 'snooze-sweep',
  });
  return {
    connections,
    snoozes,
    async stop() {
      await Promise.all([connections.stop(), snoozes.stop()]);
    },
  };
}
