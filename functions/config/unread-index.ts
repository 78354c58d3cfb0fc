/**
 * The unread index, one of the notifications table's sparse indexes: all of them are
 * defined in `./inbox-indexes.ts`. Kept for the modules that name only this one.
 */
import { INBOX_INDEXES } from './inbox-indexes';

export const UNREAD_INDEX = INBOX_INDEXES.unread;
