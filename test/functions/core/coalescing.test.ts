import { describe, expect, it } from 'vitest';
import {
  CollapseGroups,
  createCoalescer,
  DEFAULT_COALESCING,
  decide,
  slotEnvelope,
  type Turn,
} from '#core/coalescing';
import { parseEnvelope } from '#core/envelope';
import { notificationId } from '#core/notification-id';
import type { CollapseCandidate, CollapseSlot, CollapseSlotState } from '#core/ports';
import { FakeCollapseStore, ManualClock } from '#test/support/fakes';

const T0 = Date.parse('2026-11-23T12:00:00.000Z');
const SLOT: CollapseSlot = {
  recipient: { kind: 'user', tenant: 'acme', userId: 'alice' },
  collapseKey: 'post.42',
};
const SETTINGS = DEFAULT_COALESCING;

/** Envelope `seq`, published `seq` ms after T0. */
function candidate(seq: number): CollapseCandidate {
  const publishedAt = T0 + seq;
  return {
    id: notificationId(publishedAt, 'acme', `evt-${seq}`),
    envelope: parseEnvelope({
      id: `evt-${seq}`,
      type: 'comment.created',
      tenant: 'acme',
      to: { users: ['alice'] },
      collapseKey: 'post.42',
      data: { seq },
    }),
    publishedAt,
  };
}

function group(best: CollapseCandidate, options: { ids?: string[]; redelivered?: string[] } = {}) {
  return {
    best,
    ids: new Set(options.ids ?? [best.id]),
    redelivered: new Set(options.redelivered ?? []),
  };
}

function open(
  claimant: CollapseCandidate,
  latest: CollapseCandidate,
  options: { ends?: number; closing?: boolean } = {},
): CollapseSlotState {
  return {
    kind: 'open',
    windowId: claimant.id,
    windowEnds: options.ends ?? T0 + 200,
    closing: options.closing ?? false,
    latest,
  };
}

describe('decide, for a slot that refused an offer', () => {
  it('resumes a window one of the group claimed before', () => {
    const slot = open(candidate(0), candidate(5), { closing: true });
    expect(decide(slot, group(candidate(0)), T0 + 50, SETTINGS, false)).toEqual({
      kind: 'resume',
      windowEnds: T0 + 200,
    });
  });

  it('is superseded by a newer latest of a window still gathering', () => {
    const slot = open(candidate(0), candidate(5));
    expect(decide(slot, group(candidate(3)), T0 + 50, SETTINGS, false).kind).toBe('superseded');
  });

  it('offers again when a newer envelope joined the group meanwhile', () => {
    const slot = open(candidate(0), candidate(5));
    expect(decide(slot, group(candidate(9)), T0 + 50, SETTINGS, false).kind).toBe('retry');
  });

  it('waits for an ended window to settle while its claimant may still be at it', () => {
    const slot = open(candidate(0), candidate(5), { closing: true });
    expect(decide(slot, group(candidate(9)), T0 + 300, SETTINGS, false).kind).toBe('wait');
  });

  it('leaves an ended window holding something newer to its claimant', () => {
    const slot = open(candidate(0), candidate(5), { closing: true });
    expect(decide(slot, group(candidate(3)), T0 + 300, SETTINGS, false).kind).toBe('superseded');
  });

  it('adopts a window left unsettled past staleAfterMs, keeping the newer latest', () => {
    const slot = open(candidate(0), candidate(5));
    const stale = T0 + 200 + SETTINGS.staleAfterMs;
    expect(decide(slot, group(candidate(9)), stale, SETTINGS, false)).toEqual({
      kind: 'adopt',
      latest: candidate(9),
    });
    // Even when this envelope is the older: the window's latest must still go out.
    expect(decide(slot, group(candidate(3)), stale, SETTINGS, false)).toEqual({
      kind: 'adopt',
      latest: candidate(5),
    });
  });

  it('adopts once it waited long enough, whatever the clock says', () => {
    const slot = open(candidate(0), candidate(5), { closing: true });
    expect(decide(slot, group(candidate(9)), T0 + 300, SETTINGS, true).kind).toBe('adopt');
  });

  it('is superseded by what a settled slot delivered, unless it is that window redelivered', () => {
    const slot: CollapseSlotState = {
      kind: 'settled',
      lastWindowId: candidate(0).id,
      latest: candidate(5),
    };
    expect(decide(slot, group(candidate(0)), T0, SETTINGS, false).kind).toBe('superseded');
    expect(
      decide(slot, group(candidate(0), { redelivered: [candidate(0).id] }), T0, SETTINGS, false),
    ).toEqual({ kind: 'delivered', latest: candidate(5) });
    expect(decide(slot, group(candidate(7)), T0, SETTINGS, false).kind).toBe('retry');
  });
});

describe('the coalescer', () => {
  function setup() {
    const store = new FakeCollapseStore();
    const clock = new ManualClock(T0);
    const coalescer = createCoalescer({
      store,
      clock,
      settings: SETTINGS,
      expiresAt: (now) => Math.floor(now / 1000) + 3600,
    });
    return { store, clock, coalescer };
  }

  function claimant(turn: Turn) {
    if (turn.kind !== 'claimant') throw new Error(`expected a claimant, got ${turn.kind}`);
    return turn.window;
  }

  it('claims an empty slot, lets a later envelope join, and delivers the latest once', async () => {
    const { store, coalescer } = setup();
    const window = claimant(await coalescer.offer(new CollapseGroups(), SLOT, candidate(0), false));
    expect(window).toMatchObject({ windowId: candidate(0).id, windowEnds: T0 + 200, force: false });
    expect(await coalescer.offer(new CollapseGroups(), SLOT, candidate(4), false)).toEqual({
      kind: 'joined',
    });
    expect(await coalescer.offer(new CollapseGroups(), SLOT, candidate(2), false)).toEqual({
      kind: 'superseded',
    });

    const delivered: CollapseCandidate[] = [];
    const latest = await window.finish(async (c) => {
      delivered.push(c);
    });
    expect(latest?.id).toBe(candidate(4).id);
    expect(delivered.map((c) => c.id)).toEqual([candidate(4).id]);
    expect(store.state(SLOT)).toMatchObject({
      kind: 'settled',
      lastWindowId: candidate(0).id,
      latest: { id: candidate(4).id },
    });
  });

  it('gathers members in memory and delivers the newest of them', async () => {
    const { store, coalescer } = setup();
    const groups = new CollapseGroups();
    const offers = [0, 7, 3].map((seq) => coalescer.offer(groups, SLOT, candidate(seq), false));
    const [lead, ...members] = await Promise.all(offers);
    expect(members.map((turn) => turn.kind)).toEqual(['member', 'member']);
    const latest = await claimant(lead as Turn).finish(async () => undefined);
    expect(latest?.id).toBe(candidate(7).id);
    for (const member of members) {
      if (member.kind === 'member') await expect(member.done).resolves.toBeUndefined();
    }
    expect(store.calls).toEqual(['offer', 'close', 'settle']);
  });

  it('writes what members brought while the leader joined someone else’s window', async () => {
    const { store, coalescer } = setup();
    claimant(await coalescer.offer(new CollapseGroups(), SLOT, candidate(0), false));
    const groups = new CollapseGroups();
    const lead = coalescer.offer(groups, SLOT, candidate(1), false);
    const member = await coalescer.offer(groups, SLOT, candidate(6), false);
    expect(await lead).toEqual({ kind: 'joined' });
    expect(member.kind).toBe('member');
    if (member.kind === 'member') await member.done;
    expect(store.state(SLOT)?.latest.id).toBe(candidate(6).id);
    expect(store.calls).toEqual(['offer', 'offer', 'offer']);
  });

  it('starts a new group once the claimant began closing its window', async () => {
    const { clock, coalescer } = setup();
    const groups = new CollapseGroups();
    const window = claimant(await coalescer.offer(groups, SLOT, candidate(0), false));
    const finishing = window.finish(async () => undefined);
    // Not folded into the window being delivered: it waits for it, then opens its own.
    const next = coalescer.offer(groups, SLOT, candidate(8), false);
    expect((await finishing)?.id).toBe(candidate(0).id);
    await clock.untilSleeping(1);
    clock.advance(SETTINGS.pollMs);
    expect(claimant(await next).windowId).toBe(candidate(8).id);
  });

  it('rejects members that never reached the slot when another invocation adopted the window', async () => {
    const { store, clock, coalescer } = setup();
    const groups = new CollapseGroups();
    const lead = coalescer.offer(groups, SLOT, candidate(0), false);
    const member = await coalescer.offer(groups, SLOT, candidate(5), false);
    const window = claimant(await lead);
    // Some other invocation took the window over.
    await store.adopt(
      SLOT,
      { windowId: candidate(0).id, latestId: candidate(0).id },
      { windowId: candidate(9).id, windowEnds: clock.now() + 200, latest: candidate(9) },
      0,
    );
    expect(await window.finish(async () => undefined)).toBeUndefined();
    expect(member.kind).toBe('member');
    if (member.kind === 'member') await expect(member.done).rejects.toThrow(/adopted/);
  });

  it('rejects the members when delivering fails, with the same error', async () => {
    const { coalescer } = setup();
    const groups = new CollapseGroups();
    const lead = coalescer.offer(groups, SLOT, candidate(0), false);
    const member = await coalescer.offer(groups, SLOT, candidate(5), false);
    const failure = new Error('inbox down');
    await expect(
      claimant(await lead).finish(async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    if (member.kind === 'member') await expect(member.done).rejects.toBe(failure);
    expect(member.kind).toBe('member');
  });

  it('rejects the members when the slot cannot be written', async () => {
    const { store, coalescer } = setup();
    store.failOn.add('offer');
    const groups = new CollapseGroups();
    const lead = coalescer.offer(groups, SLOT, candidate(0), false);
    const member = await coalescer.offer(groups, SLOT, candidate(5), false);
    await expect(lead).rejects.toThrow(/offer failed/);
    expect(member.kind).toBe('member');
    if (member.kind === 'member') await expect(member.done).rejects.toThrow(/offer failed/);
    expect(groups.open.size).toBe(0);
  });

  it('marks a resumed or adopted window as one to push even if already stored', async () => {
    const { clock, coalescer } = setup();
    claimant(await coalescer.offer(new CollapseGroups(), SLOT, candidate(0), false));
    const resumed = claimant(await coalescer.offer(new CollapseGroups(), SLOT, candidate(0), true));
    expect(resumed).toMatchObject({ windowId: candidate(0).id, force: true });

    clock.advance(200 + SETTINGS.staleAfterMs);
    const adopted = claimant(
      await coalescer.offer(new CollapseGroups(), SLOT, candidate(3000), false),
    );
    expect(adopted).toMatchObject({ windowId: candidate(3000).id, force: true });
  });
});

describe('slotEnvelope', () => {
  it('keeps only the slot’s user as the audience', () => {
    const envelope = parseEnvelope({
      id: 'evt-1',
      type: 'comment.created',
      to: { users: ['alice', 'bob'] },
    });
    expect(slotEnvelope(envelope, SLOT.recipient).to).toEqual({ users: ['alice'] });
  });
});
