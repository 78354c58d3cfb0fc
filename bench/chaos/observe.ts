/**
 * What the checks of a chaos run read once it is over: whether the queues are quiet, the
 * dead letters with their `herald.reason`, the mails in aws-ses-v2-local's store, and each
 * user's inbox and unread count through the HTTP API, as a client would see them.
 */
import { type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { heldIn } from '#local/queue-depth';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until every queue has held nothing (not even in flight) for `quietPolls` polls in a
 * row and `progress()` has not moved meanwhile; false once `deadline` (epoch ms) passes.
 */
export async function waitQuiet(
  sqs: SQSClient,
  queueUrls: readonly string[],
  deadline: number,
  progress: () => number = () => 0,
  quietPolls = 6,
): Promise<boolean> {
  let quiet = 0;
  let last = progress();
  while (Date.now() < deadline) {
    const held = (await Promise.all(queueUrls.map((url) => heldIn(sqs, url)))).reduce(
      (sum, count) => sum + count,
      0,
    );
    const now = progress();
    quiet = held === 0 && now === last ? quiet + 1 : 0;
    last = now;
    if (quiet >= quietPolls) return true;
    await sleep(500);
  }
  return false;
}

export interface DeadLetter {
  queue: string;
  body: string;
  reason?: string;
}

/** Takes every message out of the dead-letter queues (each received once, hidden for good). */
export async function drainDeadLetters(
  sqs: SQSClient,
  queues: Record<string, string>,
): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (const [queue, QueueUrl] of Object.entries(queues)) {
    for (let empty = 0; empty < 2; ) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          VisibilityTimeout: 3_600,
          WaitTimeSeconds: 1,
        }),
      );
      empty = Messages.length === 0 ? empty + 1 : 0;
      letters.push(...Messages.map((message: Message) => toLetter(queue, message)));
    }
  }
  return letters;
}

function toLetter(queue: string, message: Message): DeadLetter {
  return {
    queue,
    body: message.Body ?? '',
    reason: message.MessageAttributes?.['herald.reason']?.StringValue,
  };
}

export interface Mail {
  to: string[];
  subject: string;
}

/** Every mail aws-ses-v2-local took. */
export async function mailsSent(sesUrl: string): Promise<Mail[]> {
  const response = await fetch(`${sesUrl}/store`);
  const store = (await response.json()) as {
    emails: Array<{ destination: { to: string[] }; subject: string }>;
  };
  return store.emails.map((mail) => ({ to: mail.destination.to, subject: mail.subject }));
}

export interface InboxView {
  items: Array<{ id: string; eventId: string; read: boolean }>;
  unread: number;
}

/** One user's whole inbox, page after page, and the unread count the API reports. */
export async function readInbox(httpUrl: string, token: string): Promise<InboxView> {
  const get = async (path: string) => {
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(`${httpUrl}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      // Under DynamoDB throttling a read may fail; a client asks again.
      if (response.ok) return (await response.json()) as Record<string, unknown>;
      if (attempt >= 10) throw new Error(`GET ${path} answered ${response.status}`);
      await sleep(100 * attempt);
    }
  };
  const items: InboxView['items'] = [];
  let cursor: string | undefined;
  do {
    const query = `?limit=100${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const page = (await get(`/notifications${query}`)) as {
      items: InboxView['items'];
      cursor?: string;
    };
    items.push(...page.items.map(({ id, eventId, read }) => ({ id, eventId, read })));
    cursor = page.cursor;
  } while (cursor !== undefined);
  const { unread } = (await get('/notifications/unread-count')) as { unread: number };
  return { items, unread };
}
