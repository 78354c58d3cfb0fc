import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '#core/envelope';
import { InvalidEnvelopeError } from '#core/errors';
import { createFanOut, DEFAULT_FAN_OUT_SETTINGS } from '#core/fan-out';
import {
  applyChange,
  STATE_LIMITS,
  StateRefusedError,
  stateChangeSchema,
  stateFrame,
  stateView,
} from '#core/user-state';
import { FakeClock, FakeUserStateStore } from '#test/support/fakes';
import {
  connection,
  envelope,
  FIRST,
  fakeWorld,
  PUBLISHED_AT,
  TENANT,
} from '#test/support/fan-out-fixtures';

const EMPTY = { set: {}, incr: {}, unset: [] };
const EXPIRES = Math.floor(PUBLISHED_AT / 1000) + 3600;

describe('state changes: what one may say', () => {
  const problems = (input: unknown) => {
    const parsed = stateChangeSchema.safeParse(input);
    return parsed.success
      ? []
      : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('takes set, incr and unset of app keys, each defaulting to empty', () => {
    expect(stateChangeSchema.parse({ set: { 'a.b:c-d_1': 'x', n: 1.5, on: false } })).toEqual({
      set: { 'a.b:c-d_1': 'x', n: 1.5, on: false },
      incr: {},
      unset: [],
    });
    expect(stateChangeSchema.parse({ incr: { n: -2 }, unset: ['x'] })).toEqual({
      set: {},
      incr: { n: -2 },
      unset: ['x'],
    });
  });

  it("refuses Herald's keys, bad keys and values, naming the field and the rule", () => {
    expect(problems({ set: { unread: 1 } })).toEqual([
      'set.unread: "unread" is kept by Herald (unread, unseen and herald* keys): apps cannot write it',
    ]);
    expect(problems({ incr: { unseen: 1 } })[0]).toMatch(/^incr\.unseen: "unseen" is kept/);
    expect(problems({ unset: ['HeraldX'] })[0]).toMatch(/^unset\.0: "HeraldX" is kept/);
    expect(problems({ set: { 'a b': 1 } })[0]).toMatch(/^set\.a b: keys must be 1 to 64/);
    expect(problems({ set: { ['k'.repeat(65)]: 1 } })[0]).toMatch(/keys must be 1 to 64/);
    expect(problems({ set: { s: 'x'.repeat(STATE_LIMITS.stringLength + 1) } })).toEqual([
      's: strings hold at most 256 characters'.replace(/^/, 'set.'),
    ]);
    expect(problems({ set: { o: { a: 1 } } })[0]).toMatch(/^set\.o: values must be strings/);
    expect(problems({ set: { n: Number.MAX_SAFE_INTEGER * 2 } })[0]).toMatch(/^set\.n: /);
    expect(problems({ incr: { n: 'one' } })).toEqual(['incr.n: must be a number']);
    expect(problems({})).toEqual([': give at least one key in set, incr or unset']);
    expect(problems({ set: { a: 1 }, incr: { a: 1 } })[0]).toMatch(/"a" appears twice/);
    expect(problems({ replace: {} })[0]).toMatch(/replace|Unrecognized/);
  });
});

describe('applying a change', () => {
  it('unsets, sets and increments, a missing number counting from 0', () => {
    const next = applyChange(
      { a: 1, b: 'x', gone: true },
      { set: { b: 'y' }, incr: { a: 2, fresh: 3 }, unset: ['gone'] },
    );
    expect(next).toEqual({ a: 3, b: 'y', fresh: 3 });
  });

  it('refuses incr on a non-number, and more keys or bytes than a hash holds', () => {
    expect(() => applyChange({ b: true }, { ...EMPTY, incr: { b: 1 } })).toThrow(
      new StateRefusedError('state.incr.b: the key holds a boolean, not a number'),
    );
    const full = Object.fromEntries(
      Array.from({ length: STATE_LIMITS.keys }, (_, n) => [`k${n}`, n]),
    );
    expect(() => applyChange(full, { ...EMPTY, set: { one: 1 } })).toThrow(/at most 64 keys/);
    // Replacing a key of a full hash is no new key.
    expect(Object.keys(applyChange(full, { ...EMPTY, set: { k0: 9 } }))).toHaveLength(64);
    const long = Object.fromEntries(
      Array.from({ length: 40 }, (_, n) => [`s${n}`, 'x'.repeat(STATE_LIMITS.stringLength)]),
    );
    expect(() => applyChange({}, { ...EMPTY, set: long })).toThrow(/at most 8192 bytes/);
  });

  it("shows Herald's counts in the hash and on top, over any stored key of theirs", () => {
    const view = stateView({ plan: 'pro', unread: 99 }, { unread: 2 });
    expect(view).toEqual({ unread: 2, unseen: 2, state: { plan: 'pro', unread: 2, unseen: 2 } });
    expect(JSON.parse(stateFrame(view))).toEqual({ type: 'state', ...view });
  });
});

describe('state envelopes', () => {
  it('change state only without channels, and need a users audience', () => {
    const stateOnly = parseEnvelope({
      id: 'e',
      type: 'counters.changed',
      to: { users: ['u'] },
      state: { incr: { n: 1 } },
    });
    expect(stateOnly.channels).toEqual([]);
    expect(parseEnvelope({ ...stateOnly }).channels).toEqual([]);
    expect(
      parseEnvelope({
        id: 'e',
        type: 't',
        to: { users: ['u'] },
        state: { set: { a: 1 } },
        channels: ['inapp'],
      }).channels,
    ).toEqual(['inapp']);
    expect(() =>
      parseEnvelope({ id: 'e', type: 't', to: { topic: 'a.b' }, state: { set: { a: 1 } } }),
    ).toThrow(/state: state changes need a users audience/);
    expect(() => parseEnvelope({ id: 'e', type: 't', to: { users: ['u'] }, channels: [] })).toThrow(
      /channels: must name at least one channel/,
    );
  });
});

describe('the fan-out and state', () => {
  function setup() {
    const world = fakeWorld();
    const states = new FakeUserStateStore();
    const welcomes: Array<{ task: unknown; delay?: number }> = [];
    const fanOut = createFanOut({
      ...world,
      connections: world.store,
      clock: new FakeClock(PUBLISHED_AT),
      random: () => 0.5,
      settings: DEFAULT_FAN_OUT_SETTINGS,
      userState: {
        store: states,
        counts: world.inbox,
        welcomes: { enqueue: async (task, delay) => void welcomes.push({ task, delay }) },
      },
    });
    return { world, states, fanOut, welcomes };
  }
  const frames = (world: ReturnType<typeof fakeWorld>, id: string) =>
    world.delivery.posts
      .filter((post) => post.connectionId === id)
      .map((post) => JSON.parse(post.data));

  it('applies a state-only envelope once per id, pushing the hash and storing nothing', async () => {
    const { world, states, fanOut } = setup();
    await world.store.put(connection('c1', 'alice'), EXPIRES);
    const change = envelope({ users: ['alice', 'bob'] }, { state: { incr: { n: 2 } } });
    const stateOnly = parseEnvelope({ ...change, channels: undefined });
    await fanOut.publish(stateOnly, FIRST);
    await fanOut.publish(stateOnly, { ...FIRST, redelivered: true });
    expect(await states.read(TENANT, 'alice')).toEqual({ n: 2 });
    expect(await states.read(TENANT, 'bob')).toEqual({ n: 2 });
    expect(frames(world, 'c1')).toEqual([
      { type: 'state', unread: 0, unseen: 0, state: { n: 2, unread: 0, unseen: 0 } },
    ]);
    expect(await world.inbox.unreadCount(TENANT, 'alice')).toBe(0);
  });

  it('dead-letters (InvalidEnvelopeError) a change a hash refuses, keeping the others', async () => {
    const { states, fanOut } = setup();
    await states.apply(TENANT, 'bob', { id: 'x', now: PUBLISHED_AT, expiresAt: EXPIRES }, () => ({
      n: 'text',
    }));
    const refused = envelope({ users: ['alice', 'bob'] }, { state: { incr: { n: 1 } } });
    const error = await fanOut.publish(refused, FIRST).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(InvalidEnvelopeError);
    expect((error as Error).message).toBe(
      'invalid envelope: state refused for 1 of 2 users: state.incr.n: the key holds a string, not a number',
    );
    expect(await states.read(TENANT, 'alice')).toEqual({ n: 1 });
  });

  it('welcomes a new connection of the user with their state, once more after a 410', async () => {
    const { world, states, fanOut, welcomes } = setup();
    await world.store.put(connection('c1', 'alice'), EXPIRES);
    await states.apply(TENANT, 'alice', { id: 'x', now: PUBLISHED_AT, expiresAt: EXPIRES }, () => ({
      plan: 'pro',
    }));
    const task = { tenant: TENANT, userId: 'alice', connectionId: 'c1', attempt: 0 };
    expect((await fanOut.welcome(task)).delivered).toBe(1);
    expect(frames(world, 'c1')).toEqual([
      { type: 'state', unread: 0, unseen: 0, state: { plan: 'pro', unread: 0, unseen: 0 } },
    ]);

    world.delivery.behaviour = () => 'gone';
    expect((await fanOut.welcome(task)).deferred).toBe(1);
    expect(welcomes).toEqual([{ task: { ...task, attempt: 1 }, delay: 1 }]);
    expect((await fanOut.welcome({ ...task, attempt: 1 })).abandoned).toBe(1);
    expect(welcomes).toHaveLength(1);

    // A task naming someone else's connection (or another tenant's) posts nothing.
    world.delivery.behaviour = () => 'ok';
    const before = world.delivery.posts.length;
    await fanOut.welcome({ ...task, userId: 'mallory' });
    await fanOut.welcome({ ...task, tenant: 'globex' });
    await fanOut.welcome({ ...task, connectionId: 'unknown' });
    expect(world.delivery.posts).toHaveLength(before);
  });
});
