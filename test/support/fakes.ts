/**
 * Plain in-memory implementations of the core's ports, for unit tests of the core and
 * the handlers, one module per port under `fakes/`. Each behaves as its adapter does, and
 * the contract suites in `test/contracts/` run fake and adapter through the same cases.
 * Also the events Lambda hands the handlers, shaped as AWS shapes them.
 */
export { FakeChangeLog } from './fakes/change-log';
export { FakeClock, ManualClock } from './fakes/clocks';
export { FakeCollapseStore } from './fakes/collapse-store';
export { FakeConnectionStore, type FakeConnectionStoreOptions } from './fakes/connection-store';
export { FakeDelivery } from './fakes/delivery';
export { FakeDirectory } from './fakes/directory';
export { FakeEmailContinuations } from './fakes/email-continuations';
export { FakeEventLedger } from './fakes/event-ledger';
export { FakeInbox } from './fakes/inbox';
export { snsNotificationBody, sqsEvent, sqsRecord, webSocketEvent } from './fakes/lambda-events';
export { FakeMailLog } from './fakes/mail-log';
export { FakeMailer } from './fakes/mailer';
export { FakePreferenceStore } from './fakes/preference-store';
export { FakeContinuations, FakeDeadLetters } from './fakes/queues';
export { recipientKey } from './fakes/recipients';
export { FakeReplaySource } from './fakes/replay-source';
