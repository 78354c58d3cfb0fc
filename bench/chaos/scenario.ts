/**
 * The chaos run's plan, drawn from a seed: the users and their devices, which devices go
 * offline, the envelopes (one recipient each, some asking for email), the ones published
 * twice, and the deliberately invalid ones with the marker that finds them in the DLQ.
 */
import type { ChaosOptions } from './options';

export interface PlannedUser {
  userId: string;
  email?: string;
  devices: number;
}

export interface PlannedDevice {
  user: number;
  /** Goes offline after the first third of the envelopes and resumes after the second. */
  goesOffline: boolean;
}

export interface PlannedEnvelope {
  id: string;
  user: number;
  email: boolean;
  /** The JSON published through SNS. */
  body: Record<string, unknown>;
}

export interface InvalidEnvelope {
  /** Found in the dead letter's body. */
  marker: string;
  /** Why it can never succeed (for the report). */
  kind: string;
  /** The SNS message text, as published. */
  text: string;
}

export interface ChaosPlan {
  tenant: string;
  users: PlannedUser[];
  devices: PlannedDevice[];
  envelopes: PlannedEnvelope[];
  /** Indexes into `envelopes` published a second time, later in the run. */
  duplicates: number[];
  invalid: InvalidEnvelope[];
}

export const CHAOS_TENANT = 'chaos';

/** mulberry32: a small seeded generator, so a run can be repeated exactly. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function planChaos(options: ChaosOptions): ChaosPlan {
  const random = seeded(options.seed);
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const run = `c${options.seed}`;
  const users: PlannedUser[] = Array.from({ length: options.users }, (_, index) => {
    const userId = `chaos-user-${index}`;
    const email = random() < options.emailUserShare ? `${userId}@example.com` : undefined;
    return { userId, devices: between(options.minDevices, options.maxDevices), email };
  });
  const devices: PlannedDevice[] = users.flatMap((user, index) =>
    Array.from({ length: user.devices }, () => ({
      user: index,
      goesOffline: random() < options.offlineShare,
    })),
  );
  const envelopes: PlannedEnvelope[] = Array.from({ length: options.notifications }, (_, i) => {
    // Round robin, so every user gets its share and sees notifications before going offline.
    const user = i % options.users;
    const email = users[user]?.email !== undefined && random() < options.emailShare;
    const id = `${run}-evt-${i}`;
    const body: Record<string, unknown> = {
      id,
      type: 'chaos.notification',
      tenant: CHAOS_TENANT,
      to: { users: [users[user]?.userId] },
      // Unique, so each mail is found by its subject.
      title: `Chaos ${id}`,
      body: 'Published under faults.',
      data: { seq: i },
      ...(email ? { channels: ['inapp', 'email'] } : {}),
    };
    return { id, user, email, body };
  });
  const duplicates = pickDistinct(
    random,
    Math.min(options.duplicates, envelopes.length),
    envelopes.length,
  );
  return {
    tenant: CHAOS_TENANT,
    users,
    devices,
    envelopes,
    duplicates,
    invalid: invalidEnvelopes(run, options.invalid, users[0]?.userId ?? 'nobody'),
  };
}

function pickDistinct(random: () => number, count: number, of: number): number[] {
  const picked = new Set<number>();
  while (picked.size < count) picked.add(Math.floor(random() * of));
  return [...picked].sort((a, b) => a - b);
}

/** Envelopes the fan-out can never take, of several kinds, taken in turn. */
function invalidEnvelopes(run: string, count: number, userId: string): InvalidEnvelope[] {
  const kinds: Array<[string, (marker: string) => string]> = [
    ['no recipients', (marker) => JSON.stringify({ id: marker, type: 'chaos.bad', to: {} })],
    [
      'unknown channel',
      (marker) =>
        JSON.stringify({
          id: marker,
          type: 'chaos.bad',
          to: { users: [userId] },
          channels: ['fax'],
        }),
    ],
    [
      'data nested 5,000 levels',
      (marker) =>
        JSON.stringify({ id: marker, type: 'chaos.bad', to: { users: [userId] }, data: 0 }).replace(
          '"data":0',
          `"data":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
        ),
    ],
    ['not JSON', (marker) => `{"id":"${marker}", this is not JSON`],
    ['no id', (marker) => JSON.stringify({ type: 'chaos.bad', to: { users: [userId] }, marker })],
    [
      'title not a string',
      (marker) =>
        JSON.stringify({ id: marker, type: 'chaos.bad', to: { users: [userId] }, title: 42 }),
    ],
  ];
  return Array.from({ length: count }, (_, i) => {
    const [kind, text] = kinds[i % kinds.length] as [string, (marker: string) => string];
    const marker = `${run}-invalid-${i}`;
    return { marker, kind, text: text(marker) };
  });
}
