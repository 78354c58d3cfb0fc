/**
 * The local EventBridge's answers as the JSON 1.1 protocol carries them: per entry, and for
 * requests it refuses as a whole. What matches is forwarded (here, recorded).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HERALD_DETAIL_TYPE, ingressRules } from '#config/eventbridge-ingress';
import { type EventBridgeServer, startEventBridgeServer } from '#local/eventbridge-server';

let server: EventBridgeServer;
const forwarded: string[] = [];
let failForward = false;

beforeAll(async () => {
  server = await startEventBridgeServer({
    port: 0,
    busName: 'orders',
    rules: ingressRules(),
    region: 'us-east-1',
    async forward(detail) {
      if (failForward) throw new Error('topic unreachable');
      forwarded.push(detail);
    },
  });
});

afterAll(async () => {
  await server?.stop();
});

async function call(body: unknown, target = 'AWSEvents.PutEvents') {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const entry = (extra: Record<string, unknown> = {}) => ({
  Source: 'herald.test',
  DetailType: HERALD_DETAIL_TYPE,
  Detail: '{"id":"e1"}',
  EventBusName: 'orders',
  ...extra,
});

describe('local EventBridge server', () => {
  it('forwards the detail of a matching event on its bus, named by name or ARN', async () => {
    forwarded.length = 0;
    const arn = 'arn:aws:events:us-east-1:000000000000:event-bus/orders';
    const { status, body } = await call({ Entries: [entry(), entry({ EventBusName: arn })] });
    expect(status).toBe(200);
    expect(body.FailedEntryCount).toBe(0);
    expect(forwarded).toEqual(['{"id":"e1"}', '{"id":"e1"}']);
  });

  it('accepts events on another bus without forwarding them', async () => {
    forwarded.length = 0;
    const { body } = await call({ Entries: [entry({ EventBusName: undefined })] });
    expect(body.FailedEntryCount).toBe(0);
    expect(forwarded).toEqual([]);
  });

  it('answers an entry without Source, DetailType or Detail with InvalidArgument', async () => {
    const { body } = await call({ Entries: [entry({ Source: undefined }), entry()] });
    expect(body.FailedEntryCount).toBe(1);
    expect((body.Entries as Array<Record<string, unknown>>)[0]).toMatchObject({
      ErrorCode: 'InvalidArgument',
    });
  });

  it('answers InternalFailure for an entry whose forward failed, so the caller can put it again', async () => {
    failForward = true;
    try {
      const { body } = await call({ Entries: [entry()] });
      expect((body.Entries as Array<Record<string, unknown>>)[0]).toMatchObject({
        ErrorCode: 'InternalFailure',
      });
    } finally {
      failForward = false;
    }
  });

  it.each([
    ['no entries', { Entries: [] }, 'ValidationException'],
    [
      'entries over 256 KB',
      { Entries: [entry({ Detail: `{"a":"${'x'.repeat(262_144)}"}` })] },
      'ValidationException',
    ],
    ['a body that is not JSON', '{', 'SerializationException'],
  ])('refuses a request with %s as a whole', async (_name, body, type) => {
    const answer = await call(body);
    expect(answer.status).toBe(400);
    expect(answer.body.__type).toBe(type);
  });

  it('refuses an operation it does not serve', async () => {
    const answer = await call({ Name: 'x' }, 'AWSEvents.CreateEventBus');
    expect(answer).toMatchObject({ status: 400, body: { __type: 'UnknownOperationException' } });
  });
});
