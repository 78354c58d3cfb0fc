/**
 * What the inbox's bulk actions and filtered lists cost in DynamoDB requests and capacity
 * units per item (issue 13), counted on DynamoDB Local by the bench's request counter
 * (`dynamo-counter.ts`) around the real `DynamoOwnerInbox`:
 * - a bulk `read` over 10,000 notifications (seeded through the real item builder);
 * - a filtered list (`tag`, selecting one in ten) paged to its end, and one `counts` call.
 *
 *   npm run bench:inbox [-- --items 10000]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '#adapters/aws-clients';
import { batchWriteAll } from '#adapters/dynamo-batch';
import { notificationKey, toItem } from '#adapters/dynamo-notification-items';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import type { Notification } from '#core/model';
import { notificationId } from '#core/notification-id';
import { startDynamoDbLocal } from '#local/dynamo-local';
import { createTables } from '#local/dynamo-tables';
import {
  countDynamoRequests,
  type DynamoCounts,
  subtractCounts,
  totalRequests,
} from './dynamo-counter';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

interface Row {
  what: string;
  items: number;
  counts: DynamoCounts;
  ms: number;
}

function perItem(row: Row): string {
  const { counts, items } = row;
  const requests = Object.entries(counts.requests)
    .map(([operation, n]) => `${operation} ${n}`)
    .join(', ');
  return (
    `| ${row.what} | ${items} | ${requests} | ${(totalRequests(counts) / items).toFixed(3)} | ` +
    `${(counts.readUnits / items).toFixed(3)} | ${(counts.writeUnits / items).toFixed(3)} | ${row.ms} |`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { items: { type: 'string', default: '10000' } } });
  const count = Number(values.items);
  const dynamo = await startDynamoDbLocal({ port: 0 });
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials,
  });
  const doc = createDocumentClient(client);
  try {
    const table = `herald-notifications-${randomUUID().slice(0, 8)}`;
    await createTables(client, {
      connections: `herald-connections-${table}`,
      notifications: table,
    });
    const recipient = { kind: 'user' as const, tenant: 'acme', userId: 'bench' };
    const start = Date.now() - count;
    const notes = Array.from(
      { length: count },
      (_, i): Notification => ({
        id: notificationId(start + i, 'acme', `evt-${i}`),
        eventId: `evt-${i}`,
        type: i % 2 === 0 ? 'comment.created' : 'invoice.due',
        title: `Notification #${i}`,
        body: 'Bob replied to your post about the quarterly numbers',
        createdAt: new Date(start + i).toISOString(),
        read: false,
        seen: false,
        archived: false,
        interacted: false,
        ...(i % 10 === 0 ? { tags: ['billing'] } : {}),
      }),
    );
    const expiresAt = Math.floor(Date.now() / 1000) + 86_400;
    await batchWriteAll(
      doc,
      table,
      notes.map((note) => ({
        PutRequest: {
          Item: { ...toItem(recipient, note), ...notificationKey(recipient, note.id), expiresAt },
        },
      })),
      (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    );
    const counter = countDynamoRequests(doc);
    const inbox = new DynamoOwnerInbox(doc, table);
    const rows: Row[] = [];
    const measure = async (what: string, items: () => number, run: () => Promise<void>) => {
      const before = counter.snapshot();
      const began = Date.now();
      await run();
      rows.push({
        what,
        items: items(),
        counts: subtractCounts(counter.snapshot(), before),
        ms: Date.now() - began,
      });
    };

    let listed = 0;
    await measure(
      `filtered list (tag, 1 in 10), pages of 20`,
      () => listed,
      async () => {
        let cursor: string | undefined;
        do {
          const page = await inbox.list(recipient, {
            limit: 20,
            cursor,
            filter: { tag: 'billing' },
          });
          listed += page.items.length;
          cursor = page.cursor;
        } while (cursor);
      },
    );
    await measure(
      'counts: unread, unseen and 3 filters',
      () => count,
      async () => {
        await Promise.all([
          inbox.counts('acme', 'bench'),
          inbox.count('acme', 'bench', { tag: 'billing' }),
          inbox.count('acme', 'bench', { type: 'invoice.due' }),
          inbox.count('acme', 'bench', { archived: true }),
        ]);
      },
    );
    let changed = 0;
    await measure(
      `bulk read over ${count}`,
      () => changed,
      async () => {
        const outcome = await inbox.bulk('acme', 'bench', {
          action: 'read',
          filter: {},
          deadline: Number.MAX_SAFE_INTEGER,
        });
        changed = outcome.changed;
      },
    );
    await measure(
      `bulk read again (a retry: nothing left)`,
      () => count,
      async () => {
        await inbox.bulk('acme', 'bench', {
          action: 'read',
          filter: {},
          deadline: Number.MAX_SAFE_INTEGER,
        });
      },
    );
    console.log(
      '| what | items | requests | requests/item | read units/item | write units/item | ms (DynamoDB Local) |',
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(perItem(row));
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

await main();
