/** What the inbox suites run against: both sides of one inbox, over the same store. */
import type { FanOutInbox, OwnerInbox } from '#core/ports';

export interface InboxUnderTest {
  fanOut: FanOutInbox;
  owner: OwnerInbox;
}

export type MakeInbox = () => InboxUnderTest;
