/** The state routes of the HTTP API over fakes: who may call which, and what they answer. */
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from '#adapters/jwt-verifier';
import { DEFAULT_RETRY } from '#core/deliver';
import { createInboxService } from '#core/inbox';
import { createLimiter } from '#core/limiter';
import { createPreferencesService } from '#core/preferences';
import { createPusher } from '#core/push';
import { createUserStateService } from '#core/user-state-service';
import { type HttpApiEvent, makeHandler } from '#handlers/http-api';
import {
  FakeClock,
  FakeConnectionStore,
  FakeDelivery,
  FakeInbox,
  FakePreferenceStore,
  FakeUserStateStore,
} from '#test/support/fakes';
import { secretBytes, signHs256 } from '#test/support/tokens';

const SECRET = 'http-api-state-test-secret-long-enough-hs256';
const NOW = Date.parse('2026-11-23T12:00:00.000Z');
let alice: string;
let service: string;
let otherTenantService: string;

beforeAll(async () => {
  alice = await signHs256({ sub: 'alice', tenant: 'acme' }, {}, SECRET);
  service = await signHs256(
    { sub: 'billing', tenant: 'acme', 'herald:role': 'service' },
    {},
    SECRET,
  );
  otherTenantService = await signHs256(
    { sub: 'billing', tenant: 'globex', 'herald:role': 'service' },
    {},
    SECRET,
  );
});

const unused = async (): Promise<never> => {
  throw new Error('not called in these tests');
};

function setup() {
  const inbox = new FakeInbox();
  const connections = new FakeConnectionStore();
  const delivery = new FakeDelivery();
  const states = new FakeUserStateStore();
  const clock = new FakeClock(NOW);
  const handler = makeHandler({
    verifier: new JwtVerifier({ key: { kind: 'secret', secret: secretBytes(SECRET) } }),
    inbox: createInboxService({ inbox, connections, delivery, clock, appState: states }),
    preferences: createPreferencesService({ store: new FakePreferenceStore() }),
    states: createUserStateService({
      store: states,
      counts: inbox,
      pusher: createPusher({
        connections,
        delivery,
        limiter: createLimiter(4),
        clock,
        retry: DEFAULT_RETRY,
        pruneConcurrency: 4,
      }),
      clock,
      idempotencySeconds: 3600,
    }),
    // Snooze is not what these tests are about; they never call its routes.
    snooze: { snooze: unused, unsnooze: unused },
  });
  const call = async (routeKey: string, token: string, extra: Partial<HttpApiEvent> = {}) => {
    const result = await handler({
      routeKey,
      headers: { authorization: `Bearer ${token}` },
      ...extra,
    } as HttpApiEvent);
    return { status: result.statusCode, body: JSON.parse(String(result.body)) };
  };
  const write = (token: string, userId: string, body: unknown) =>
    call('POST /users/{userId}/state', token, {
      pathParameters: { userId },
      body: JSON.stringify(body),
    });
  return { call, write };
}

describe('state routes', () => {
  it('lets a service write a user of its tenant, once per id, and the user read it', async () => {
    const { call, write } = setup();
    const first = await write(service, 'alice', { id: 'i1', incr: { n: 2 }, set: { plan: 'pro' } });
    expect(first).toEqual({
      status: 200,
      body: { applied: true, state: { n: 2, plan: 'pro', unread: 0, unseen: 0 } },
    });
    expect((await write(service, 'alice', { id: 'i1', incr: { n: 2 } })).body.applied).toBe(false);
    expect(await call('GET /state', alice)).toEqual({
      status: 200,
      body: { unread: 0, unseen: 0, state: { n: 2, plan: 'pro', unread: 0, unseen: 0 } },
    });
    // Another tenant's service writes its own tenant's alice, not this one.
    await write(otherTenantService, 'alice', { id: 'i2', set: { plan: 'free' } });
    expect((await call('GET /state', alice)).body.state.plan).toBe('pro');
  });

  it('refuses a user token on the service route and a service token on user routes (403)', async () => {
    const { call, write } = setup();
    const asUser = await write(alice, 'alice', { id: 'i', set: { a: 1 } });
    expect(asUser.status).toBe(403);
    expect(asUser.body.error.message).toMatch(/takes a service credential/);
    for (const route of ['GET /state', 'GET /notifications/unread-count', 'GET /preferences']) {
      expect((await call(route, service)).status).toBe(403);
    }
  });

  it('answers 400 naming the field and the rule', async () => {
    const { write } = setup();
    const cases: Array<[unknown, string]> = [
      [{ set: { a: 1 } }, 'id: required, a string of 1 to 128 characters'],
      [{ id: 'i', set: { unread: 3 } }, 'set.unread: "unread" is kept by Herald'],
      [{ id: 'i', set: { a: [] } }, 'set.a: values must be'],
      [[], 'body must be a JSON object'],
    ];
    for (const [body, message] of cases) {
      const refused = await write(service, 'alice', body);
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toContain(message);
    }
    const badUser = await write(service, '', { id: 'i', set: { a: 1 } });
    expect(badUser).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
  });
});
