import type { Recipient } from '#core/model';

/** How the fakes key what they keep per recipient: `acme/user/alice`, `acme/topic/project.42`. */
export function recipientKey(recipient: Recipient): string {
  return recipient.kind === 'user'
    ? `${recipient.tenant}/user/${recipient.userId}`
    : `${recipient.tenant}/topic/${recipient.topic}`;
}
