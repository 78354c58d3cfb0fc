/**
 * Email tasks on the email queue: how the email consumer hands slices of a big audience to
 * its later invocations, and how it tells such a task from an SNS notification.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import type { EmailContinuations, EmailTask } from '#core/email-tasks';
import { parseEnvelope } from '#core/envelope';
import { InvalidEnvelopeError } from '#core/errors';
import { decodeQueueMessage, type QueueMessage } from './queue-messages';
import { SqsTaskQueue } from './sqs-queues';

export type EmailQueueMessage = QueueMessage | { kind: 'email-task'; task: EmailTask };

const EMAIL_TASK_KEY = 'heraldEmailTask';
/** Every encoded task starts so (JSON.stringify keeps key order), and no SNS message does. */
const EMAIL_TASK_PREFIX = `{"${EMAIL_TASK_KEY}":`;

const emailTask = z.strictObject({
  kind: z.literal('email-recipients'),
  envelope: z
    .unknown()
    .transform((value) => parseEnvelope(value))
    .refine((envelope) => 'users' in envelope.to, 'an email task is addressed to users'),
  // As queue-messages bounds it: a later time cannot make a notification id or `createdAt`.
  publishedAt: z
    .number()
    .int()
    .nonnegative()
    .max(Date.UTC(9999, 11, 31, 23, 59, 59, 999)),
  attempt: z.number().int().nonnegative(),
});

export function encodeEmailTask(task: EmailTask): string {
  return JSON.stringify({ [EMAIL_TASK_KEY]: task });
}

/**
 * Reads one message of the email queue: an email task, or whatever `decodeQueueMessage`
 * reads. Throws InvalidEnvelopeError for anything that can never be processed.
 */
export function decodeEmailQueueMessage(body: string, sentAt: number): EmailQueueMessage {
  if (!body.startsWith(EMAIL_TASK_PREFIX)) return decodeQueueMessage(body, sentAt);
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch (error) {
    throw new InvalidEnvelopeError('invalid email task: not JSON', { cause: error });
  }
  let parsed: ReturnType<typeof emailTask.safeParse>;
  try {
    parsed = emailTask.safeParse((input as Record<string, unknown>)[EMAIL_TASK_KEY]);
  } catch (error) {
    // The envelope's own validation throws from inside the schema.
    if (!(error instanceof InvalidEnvelopeError)) throw error;
    throw new InvalidEnvelopeError(`invalid email task: ${error.message}`, { cause: error });
  }
  if (!parsed.success) {
    throw new InvalidEnvelopeError(`invalid email task: ${z.prettifyError(parsed.error)}`);
  }
  return { kind: 'email-task', task: parsed.data };
}

/** Hands email tasks to a later invocation through the email queue. */
export class SqsEmailContinuations extends SqsTaskQueue<EmailTask> implements EmailContinuations {
  constructor(sqs: SQSClient, queueUrl: string) {
    super(sqs, queueUrl, encodeEmailTask);
  }
}
