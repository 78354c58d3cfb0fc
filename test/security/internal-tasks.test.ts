/**
 * Issue 11 item 5: a continuation task dropped onto Herald's fan-out queue by someone who may
 * send to it (through the real SQS client, as an attacker with that permission would) must
 * not push to a connection outside its envelope's tenant and audience.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { encodeTask } from '#adapters/queue-messages';
import { parseEnvelope } from '#core/envelope';
import { type E2e, eventually, queuesEmpty, roundTrip, startE2e } from '#test/support/e2e';

let e2e: E2e;
let connections: DynamoConnectionStore;

beforeAll(async () => {
  e2e = await startE2e();
  connections = new DynamoConnectionStore(e2e.doc, e2e.stack.tables.connections);
});

afterAll(async () => {
  await e2e?.stop();
});

describe('an injected retry-connections task', () => {
  it('naming a foreign connection pushes nothing to it', async () => {
    const victim = await e2e.connect('victim-task', { tenant: 'globex' });
    const mallory = await e2e.connect('mallory-task', { tenant: 'acme' });
    const [victimRef] = (await connections.listForUser('globex', 'victim-task')).items;
    if (victimRef === undefined) throw new Error('victim connection not stored');

    const queue = e2e.stack.queues.fanOut;
    const forged = (tenant: string, users: string[], connectionId: string, userId: string) =>
      encodeTask({
        kind: 'retry-connections',
        envelope: parseEnvelope({
          id: `forged-${tenant}-${userId}`,
          type: 'x',
          tenant,
          to: { users },
          title: 'pwned',
        }),
        publishedAt: Date.now(),
        connections: [{ connectionId, userId }],
        attempt: 1,
      });
    for (const body of [
      // Another tenant's envelope naming the victim's connection.
      forged('acme', ['mallory-task'], victimRef.connectionId, 'mallory-task'),
      // The victim's own tenant and id, but an audience that does not hold them.
      forged('globex', ['someone-else'], victimRef.connectionId, 'victim-task'),
    ]) {
      await e2e.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    }
    await eventually(() => queuesEmpty(e2e.sqs, [queue.url]));
    await roundTrip(victim);
    await roundTrip(mallory);
    expect(victim.notifications()).toEqual([]);

    // The same path still serves a connection that does belong to the audience.
    const [malloryRef] = (await connections.listForUser('acme', 'mallory-task')).items;
    if (malloryRef === undefined) throw new Error('mallory connection not stored');
    await e2e.sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: forged('acme', ['mallory-task'], malloryRef.connectionId, 'mallory-task'),
      }),
    );
    await eventually(() => expect(mallory.notifications()).toHaveLength(1));
    expect(victim.notifications()).toEqual([]);
  });
});
