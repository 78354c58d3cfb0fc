import { describe, expect, it } from 'vitest';
import type { ClaimedWindow, Turn } from '#core/coalescing';
import {
  type Arrival,
  DEFAULT_FAN_OUT_SETTINGS,
  FanOutBatch,
  type FanOutReport,
  type FanOutSettings,
} from '#core/fan-out';
import { newReport } from '#core/fan-out-report';
import { followTurn } from '#core/fan-out-windows';
import type { Clock } from '#core/ports';
import { type FakeInbox, ManualClock } from '#test/support/fakes';
import {
  connection,
  connector,
  envelope,
  FIRST,
  fakeWorld,
  fanOutOver,
  PUBLISHED_AT,
} from '#test/support/fan-out-fixtures';

describe('coalescing by collapseKey', () => {
  const KEY = 'post.42';
  const WINDOW = DEFAULT_FAN_OUT_SETTINGS.coalescing.windowMs;

  /** Shared stores (the table, the sockets) and one fan-out per simulated Lambda container. */
  function world() {
    const shared = fakeWorld();
    const clock = new ManualClock(PUBLISHED_AT);
    const lambda = (options: { clock?: Clock; settings?: Partial<FanOutSettings> } = {}) =>
      fanOutOver(shared, options.clock ?? clock, {
        ...DEFAULT_FAN_OUT_SETTINGS,
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
        ...options.settings,
      });
    return { ...shared, clock, lambda, connect: connector(shared) };
  }

  /** Envelope `seq` of a series: published `seq` ms after the first, carrying its number. */
  function collapsing(seq: number, to: object = { users: ['alice'] }, extra: object = {}) {
    return envelope(to, { id: `evt-${seq}`, collapseKey: KEY, data: { seq }, ...extra });
  }
  function at(seq: number, extra: Partial<Arrival> = {}): Arrival {
    return { publishedAt: PUBLISHED_AT + seq, redelivered: false, ...extra };
  }
  function seqs(frames: unknown[]): unknown[] {
    return (frames as Array<{ notification: { data: { seq: number } } }>).map(
      (frame) => frame.notification.data.seq,
    );
  }
  function stored(inbox: FakeInbox): unknown[] {
    return [...inbox.items.values()].map((n) => (n.data as { seq: number }).seq);
  }
  function sum(reports: FanOutReport[], field: 'coalesced' | 'delivered' | 'duplicates'): number {
    return reports.reduce((total, report) => total + report[field], 0);
  }
  /** Waits until `count` of the runs have finished (the others wait for a window). */
  async function untilFinished(runs: Array<Promise<unknown>>, count: number): Promise<void> {
    let finished = 0;
    for (const run of runs)
      run.then(
        () => finished++,
        () => finished++,
      );
    for (let turn = 0; turn < 1000 && finished < count; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(finished).toBe(count);
  }

  it('turns a burst of 20 from separate invocations into one push of the last, stored once', async () => {
    const { lambda, clock, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'), connection('a2', 'alice'));
    const fanOut = lambda();
    const runs = Array.from({ length: 20 }, (_, seq) => fanOut.publish(collapsing(seq), at(seq)));

    await untilFinished(runs, 19);
    await clock.untilSleeping(1);
    expect(delivery.posts).toEqual([]);
    clock.advance(WINDOW);
    const reports = await Promise.all(runs);

    expect(seqs(delivery.delivered('a1'))).toEqual([19]);
    expect(seqs(delivery.delivered('a2'))).toEqual([19]);
    expect(stored(inbox)).toEqual([19]);
    expect(sum(reports, 'coalesced')).toBe(19);
    expect(sum(reports, 'delivered')).toBe(2);
  });

  it('gathers a batch in memory: one slot write per window, not one per envelope', async () => {
    const { lambda, clock, delivery, inbox, collapses, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const batch = new FanOutBatch();
    const runs = Array.from({ length: 10 }, (_, seq) =>
      fanOut.publish(collapsing(seq), at(seq, { batch })),
    );
    await clock.untilSleeping(1);
    clock.advance(WINDOW);
    await Promise.all(runs);

    expect(seqs(delivery.delivered('a1'))).toEqual([9]);
    expect(stored(inbox)).toEqual([9]);
    expect(collapses.calls).toEqual(['offer', 'close', 'settle']);
  });

  it('delivers one notification per window: a burst after the window closed is another', async () => {
    const { lambda, clock, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const first = [0, 1, 2].map((seq) => fanOut.publish(collapsing(seq), at(seq)));
    await untilFinished(first, 2);
    clock.advance(WINDOW);
    await Promise.all(first);

    clock.advance(1000);
    const second = [1000, 1001, 1002].map((seq) => fanOut.publish(collapsing(seq), at(seq)));
    await untilFinished(second, 2);
    clock.advance(WINDOW);
    await Promise.all(second);

    expect(seqs(delivery.delivered('a1'))).toEqual([2, 1002]);
    expect(stored(inbox).sort()).toEqual([1002, 2]);
  });

  it('keeps collapse keys apart', async () => {
    const { lambda, clock, delivery, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const runs = [0, 1, 2, 3].map((seq) =>
      fanOut.publish(
        collapsing(seq, undefined, { collapseKey: seq % 2 ? 'odd' : 'even' }),
        at(seq),
      ),
    );
    await untilFinished(runs, 2);
    clock.advance(WINDOW);
    await Promise.all(runs);
    expect(seqs(delivery.delivered('a1')).sort()).toEqual([2, 3]);
  });

  it('keeps users apart, and sleeps once for an envelope claiming windows for many users', async () => {
    const { lambda, clock, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'), connection('b1', 'bob'), connection('c1', 'carol'));
    const fanOut = lambda();
    const runs = [
      fanOut.publish(collapsing(0, { users: ['alice', 'bob', 'carol'] }), at(0)),
      fanOut.publish(collapsing(1, { users: ['bob'] }), at(1)),
    ];
    await untilFinished(runs, 1);
    await clock.untilSleeping(1);
    expect(clock.sleeping).toBe(1);
    clock.advance(WINDOW);
    await Promise.all(runs);

    expect(seqs(delivery.delivered('a1'))).toEqual([0]);
    expect(seqs(delivery.delivered('b1'))).toEqual([1]);
    expect(seqs(delivery.delivered('c1'))).toEqual([0]);
    expect(inbox.items.size).toBe(3);
  });

  it('delivers the latest by publish time when envelopes arrive out of order', async () => {
    const { lambda, clock, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const runs = [50, 10, 30].map((seq) => fanOut.publish(collapsing(seq), at(seq)));
    await untilFinished(runs, 2);
    clock.advance(WINDOW);
    await Promise.all(runs);
    expect(seqs(delivery.delivered('a1'))).toEqual([50]);

    // Older than what was delivered, arriving after its window: nothing new.
    clock.advance(5000);
    const late = await fanOut.publish(collapsing(20), at(20));
    expect(late.coalesced).toBe(1);
    expect(seqs(delivery.delivered('a1'))).toEqual([50]);
    expect(stored(inbox)).toEqual([50]);
  });

  it('does nothing new for a re-publish of any coalesced envelope', async () => {
    const { lambda, clock, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const runs = [0, 1, 2].map((seq) => fanOut.publish(collapsing(seq), at(seq)));
    await untilFinished(runs, 2);
    clock.advance(WINDOW);
    await Promise.all(runs);

    clock.advance(60_000);
    for (const seq of [0, 1, 2]) {
      // A later SNS publish of the same id: the ledger gives back its first publish time.
      const report = await fanOut.publish(collapsing(seq), at(seq + 60_000));
      expect(report.delivered).toBe(0);
    }
    expect(clock.sleeping).toBe(0);
    expect(seqs(delivery.delivered('a1'))).toEqual([2]);
    expect(stored(inbox)).toEqual([2]);
  });

  it('lets a redelivered claimant finish the window its crashed attempt left open', async () => {
    const { lambda, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'));
    // The claimant's container dies while it sleeps: its clock never moves again.
    const crashed = lambda({ clock: new ManualClock(PUBLISHED_AT) });
    void crashed.publish(collapsing(0), at(0));
    const followers = lambda();
    for (const seq of [1, 2, 3]) {
      expect((await followers.publish(collapsing(seq), at(seq))).coalesced).toBe(1);
    }

    // SQS hands the claimant's message out again after its visibility timeout.
    const redelivery = lambda({ clock: new ManualClock(PUBLISHED_AT + 180_000) });
    const report = await redelivery.publish(collapsing(0), at(0, { redelivered: true }));

    expect(report.delivered).toBe(1);
    expect(seqs(delivery.delivered('a1'))).toEqual([3]);
    expect(stored(inbox)).toEqual([3]);
  });

  it('lets a newer envelope adopt a window whose claimant is gone, without waiting for it', async () => {
    const { lambda, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'));
    void lambda({ clock: new ManualClock(PUBLISHED_AT) }).publish(collapsing(0), at(0));
    await lambda().publish(collapsing(1), at(1));

    const later = new ManualClock(PUBLISHED_AT + 5000);
    const adopter = lambda({ clock: later }).publish(collapsing(5000), at(5000));
    await later.untilSleeping(1);
    later.advance(WINDOW);
    await adopter;
    expect(seqs(delivery.delivered('a1'))).toEqual([5000]);

    // The dead claimant's message comes back: a newer envelope was delivered, nothing to do.
    const redelivery = lambda({ clock: new ManualClock(PUBLISHED_AT + 180_000) });
    await redelivery.publish(collapsing(0), at(0, { redelivered: true }));
    expect(seqs(delivery.delivered('a1'))).toEqual([5000]);
    expect(stored(inbox)).toEqual([5000]);
  });

  it('recovers a window closed by a claimant that failed before storing it', async () => {
    const { lambda, clock, delivery, inbox, continuations, connect } = world();
    await connect(connection('a1', 'alice'));
    inbox.failFor.add('acme/user/alice');
    continuations.failure = new Error('SQS unavailable');
    const claimant = lambda().publish(collapsing(0), at(0));
    await lambda().publish(collapsing(1), at(1));
    await clock.untilSleeping(1);
    clock.advance(WINDOW);
    // Nothing could retry alice (SQS is down too): the message fails, to be redelivered.
    await expect(claimant).rejects.toThrow('SQS unavailable');

    // Meanwhile a newer envelope waits for the closing window instead of losing to it.
    const newcomer = lambda().publish(collapsing(300), at(300));
    await clock.untilSleeping(1);

    inbox.failFor.clear();
    continuations.failure = undefined;
    const redelivered = await lambda({ clock: new ManualClock(clock.time) }).publish(
      collapsing(0),
      at(0, { redelivered: true }),
    );
    expect(redelivered.delivered).toBe(1);
    expect(seqs(delivery.delivered('a1'))).toEqual([1]);

    clock.advance(DEFAULT_FAN_OUT_SETTINGS.coalescing.pollMs);
    await clock.untilSleeping(1);
    clock.advance(WINDOW);
    await newcomer;
    expect(seqs(delivery.delivered('a1'))).toEqual([1, 300]);
    expect(stored(inbox).sort()).toEqual([1, 300]);
  });

  it('fails the messages a batch held only in memory when their window failed, so none is lost', async () => {
    const { lambda, clock, delivery, inbox, continuations, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const batch = new FanOutBatch();
    inbox.failFor.add('acme/user/alice');
    const leader = fanOut.publish(collapsing(0), at(0, { batch }));
    const member = fanOut.publish(collapsing(1), at(1, { batch }));
    await clock.untilSleeping(1);
    clock.advance(WINDOW);

    await expect(member).rejects.toThrow(/store failed/);
    expect((await leader).problems.map((p) => p.what)).toEqual(['user alice']);
    inbox.failFor.clear();

    // The leader's retry task finishes its window; the member's message comes back after it.
    const [task] = continuations.tasks.splice(0);
    expect(task?.task.kind).toBe('retry-users');
    if (task) await fanOut.run(task.task);
    const again = fanOut.publish(collapsing(1), at(1, { redelivered: true }));
    await clock.untilSleeping(1);
    clock.advance(WINDOW);
    await again;

    expect(seqs(delivery.delivered('a1'))).toEqual([0, 1]);
    expect(stored(inbox).sort()).toEqual([0, 1]);
  });

  it('pushes the delivered latest again when the claimant is redelivered after settling', async () => {
    const { lambda, clock, delivery, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const runs = [0, 1].map((seq) => fanOut.publish(collapsing(seq), at(seq)));
    await untilFinished(runs, 1);
    clock.advance(WINDOW);
    await Promise.all(runs);

    await fanOut.publish(collapsing(0), at(0, { redelivered: true }));
    await fanOut.publish(collapsing(1), at(1, { redelivered: true }));
    // Once more by the claimant's redelivery (it may have died before pushing); a
    // redelivered follower pushes nothing, its claimant did.
    expect(seqs(delivery.delivered('a1'))).toEqual([1, 1]);
  });

  it('coalesces a topic: one broadcast and one history entry per window', async () => {
    const { lambda, clock, delivery, inbox, connect } = world();
    await connect(
      connection('s1', 'alice', { topics: ['project.42'] }),
      connection('s2', 'bob', { topics: ['project.42'] }),
    );
    const fanOut = lambda();
    const runs = [0, 1, 2, 3, 4].map((seq) =>
      fanOut.publish(collapsing(seq, { topic: 'project.42' }), at(seq)),
    );
    await untilFinished(runs, 4);
    clock.advance(WINDOW);
    await Promise.all(runs);
    expect(seqs(delivery.delivered('s1'))).toEqual([4]);
    expect(seqs(delivery.delivered('s2'))).toEqual([4]);
    expect([...inbox.items.keys()]).toEqual([expect.stringMatching(/^acme\/topic\/project\.42\//)]);
  });

  it('skips a muted user before any collapse window is opened for them', async () => {
    const { lambda, delivery, collapses, inbox, preferences, connect } = world();
    await connect(connection('a1', 'alice'));
    preferences.users.set('acme/alice', { channels: { inapp: false } });
    const report = await lambda().publish(collapsing(0), at(0));
    expect(report.muted).toBe(1);
    expect(collapses.calls).toEqual([]);
    expect(delivery.posts).toEqual([]);
    expect(inbox.items.size).toBe(0);
  });

  it('costs nothing extra without a collapseKey, and ignores the key when the window is 0', async () => {
    const { lambda, delivery, collapses, connect } = world();
    await connect(connection('a1', 'alice'));
    await lambda().publish(envelope({ users: ['alice'] }), FIRST);
    expect(collapses.calls).toEqual([]);

    const off = lambda({
      settings: { coalescing: { ...DEFAULT_FAN_OUT_SETTINGS.coalescing, windowMs: 0 } },
    });
    for (const seq of [11, 12, 13]) await off.publish(collapsing(seq), at(seq));
    expect(collapses.calls).toEqual([]);
    expect(delivery.delivered('a1')).toHaveLength(4);
  });
});

describe('followTurn', () => {
  const latest = { id: 'n1', envelope: envelope({ users: ['alice'] }), publishedAt: PUBLISHED_AT };

  function follow(turn: Turn) {
    const report = newReport('n0');
    const calls: string[] = [];
    const done = followTurn(turn, report, {
      claimant: (window) => {
        calls.push(`claimant ${window.windowId}`);
      },
      member: async (done) => {
        calls.push('member');
        await done;
      },
      delivered: async (candidate) => {
        calls.push(`delivered ${candidate.id}`);
      },
    });
    return { report, calls, done };
  }

  it('hands a claimed window and a delivered latest on, counting neither as coalesced', async () => {
    const window = { windowId: 'w1' } as ClaimedWindow;
    const claimed = follow({ kind: 'claimant', window });
    await claimed.done;
    expect(claimed.calls).toEqual(['claimant w1']);
    const delivered = follow({ kind: 'delivered', latest });
    await delivered.done;
    expect(delivered.calls).toEqual(['delivered n1']);
    expect(claimed.report.coalesced + delivered.report.coalesced).toBe(0);
  });

  it('counts a member, a joiner and a superseded envelope as coalesced; a member waits', async () => {
    let settle: () => void = () => undefined;
    const member = follow({ kind: 'member', done: new Promise((resolve) => (settle = resolve)) });
    let waited = false;
    const following = member.done.then(() => {
      waited = true;
    });
    await Promise.resolve();
    expect(waited).toBe(false);
    settle();
    await following;
    expect(member.calls).toEqual(['member']);
    for (const turn of [{ kind: 'joined' }, { kind: 'superseded' }] as const) {
      const other = follow(turn);
      await other.done;
      expect(other.calls).toEqual([]);
      expect(other.report.coalesced).toBe(1);
    }
    expect(member.report.coalesced).toBe(1);
  });
});
