/**
 * The port contracts run against the in-memory fakes the core's tests use: each suite here
 * runs unchanged against the DynamoDB adapters in `dynamo.test.ts`, so a fake can promise
 * nothing its adapter does not do.
 */
import { describe } from 'vitest';
import {
  FakeChangeLog,
  FakeCollapseStore,
  FakeConnectionStore,
  FakeDirectory,
  FakeEventLedger,
  FakeInbox,
  FakeMailLog,
  FakePreferenceStore,
  FakeReplaySource,
} from '#test/support/fakes';
import { changeLogContract } from './change-log.contract';
import { collapseStoreContract } from './collapse-store.contract';
import { connectionStoreContract } from './connection-store.contract';
import { directoryContract } from './directory.contract';
import { eventLedgerContract } from './event-ledger.contract';
import { fanOutInboxContract } from './fan-out-inbox.contract';
import { mailLogContract } from './mail-log.contract';
import { ownerInboxContract } from './owner-inbox.contract';
import { preferenceStoreContract } from './preference-store.contract';
import { replaySourceContract } from './replay-source.contract';

describe('the fakes', () => {
  const inbox = () => {
    const fake = new FakeInbox();
    // Expiry judged by the system clock, as the adapter judges it.
    fake.now = Date.now;
    return { fanOut: fake, owner: fake };
  };
  fanOutInboxContract(inbox);
  changeLogContract(() => new FakeChangeLog());
  ownerInboxContract(inbox);
  replaySourceContract(() => {
    const source = new FakeReplaySource();
    // Filed when added, by the system clock, as the adapter stamps its writes.
    source.now = Date.now;
    return {
      source,
      file: async (recipient, notes) => source.add(recipient, ...notes),
      remove: async (recipient, id) => source.remove(recipient, id),
    };
  });
  connectionStoreContract((settings) => new FakeConnectionStore(settings));
  preferenceStoreContract(() => new FakePreferenceStore());
  eventLedgerContract(() => new FakeEventLedger());
  collapseStoreContract(() => new FakeCollapseStore());
  directoryContract(() => new FakeDirectory());
  mailLogContract(() => new FakeMailLog());
});
