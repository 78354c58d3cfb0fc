import type { Clock } from '#core/ports';

/** A clock whose sleeps return at once and are recorded. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public time = Date.parse('2026-11-23T12:00:00Z')) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
  }
}

/**
 * A clock that moves only when a test moves it: sleepers wake once it passes their time.
 * Lets a test hold a collapse window open while other envelopes arrive, then end it.
 */
export class ManualClock implements Clock {
  private readonly sleepers: Array<{ until: number; wake: () => void }> = [];
  constructor(public time = Date.parse('2026-11-23T12:00:00Z')) {}

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.sleepers.push({ until: this.time + ms, wake }));
  }

  /** How many sleeps are waiting. */
  get sleeping(): number {
    return this.sleepers.length;
  }

  /** Moves time on, waking every sleeper whose time has come. */
  advance(ms: number): void {
    this.time += ms;
    for (const sleeper of [...this.sleepers]) {
      if (sleeper.until > this.time) continue;
      this.sleepers.splice(this.sleepers.indexOf(sleeper), 1);
      sleeper.wake();
    }
  }

  /** Resolves once at least `count` sleeps wait; fails rather than hang when they never do. */
  async untilSleeping(count = 1): Promise<void> {
    for (let turn = 0; turn < 1000; turn++) {
      if (this.sleepers.length >= count) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`expected ${count} sleeping, found ${this.sleepers.length}`);
  }
}
