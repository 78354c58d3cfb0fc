/**
 * The port contracts run against the DynamoDB adapters on DynamoDB Local (one java
 * process for all of them), the very suites `fakes.test.ts` runs against the fakes.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { DynamoChangeLog } from '#adapters/dynamo-change-log';
import { DynamoCollapseStore } from '#adapters/dynamo-collapse-store';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoDirectory } from '#adapters/dynamo-directory';
import { DynamoEventLedger } from '#adapters/dynamo-event-ledger';
import { DynamoFanOutInbox } from '#adapters/dynamo-fan-out-inbox';
import { DynamoMailLog } from '#adapters/dynamo-mail-log';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { DynamoReplaySource } from '#adapters/dynamo-replay-source';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';
import { changeLogContract } from './change-log.contract';
import { collapseStoreContract } from './collapse-store.contract';
import { connectionStoreContract } from './connection-store.contract';
import { directoryContract } from './directory.contract';
import { eventLedgerContract } from './event-ledger.contract';
import { fanOutInboxContract } from './fan-out-inbox.contract';
import { mailLogContract } from './mail-log.contract';
import { EXPIRES_AT } from './notifications';
import { ownerInboxContract } from './owner-inbox.contract';
import { preferenceStoreContract } from './preference-store.contract';
import { replaySourceContract } from './replay-source.contract';

let local: DynamoLocal;

beforeAll(async () => {
  local = await startDynamoLocal();
});

afterAll(async () => {
  await local?.stop();
});

describe('the DynamoDB adapters', () => {
  const notifications = () => local.tables.notifications;
  const inbox = () => ({
    fanOut: new DynamoFanOutInbox(local.doc, notifications()),
    owner: new DynamoOwnerInbox(local.doc, notifications()),
  });
  fanOutInboxContract(inbox);
  changeLogContract(() => new DynamoChangeLog(local.doc, notifications()));
  ownerInboxContract(inbox);
  replaySourceContract(() => {
    const { fanOut, owner } = inbox();
    return {
      source: new DynamoReplaySource(local.doc, notifications()),
      file: async (recipient, notes) => {
        for (const note of notes) await fanOut.store(recipient, note, EXPIRES_AT);
      },
      remove: async ({ tenant, userId }, id) => {
        await owner.remove(tenant, userId, id);
      },
    };
  });
  connectionStoreContract(
    ({ now, userPageSize }) =>
      new DynamoConnectionStore(local.doc, local.tables.connections, now, { userPageSize }),
  );
  preferenceStoreContract(() => new DynamoPreferenceStore(local.doc, notifications()));
  eventLedgerContract(() => new DynamoEventLedger(local.doc, notifications()));
  collapseStoreContract(() => new DynamoCollapseStore(local.doc, notifications()));
  directoryContract(() => new DynamoDirectory(local.doc, notifications()));
  mailLogContract(() => new DynamoMailLog(local.doc, notifications()));
});
