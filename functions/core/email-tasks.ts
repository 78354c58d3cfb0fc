/**
 * Email to a big audience goes out in tasks: slices of the recipients that the email
 * consumer hands to later invocations through its own queue, so no invocation mails more
 * than its budget. The mail log's claims keep a slice run twice from mailing anyone twice;
 * the tasks keep anyone from being skipped.
 */
import type { Envelope } from './model';

/**
 * A slice of an email envelope's audience still to mail: the envelope as published, with
 * `to.users` narrowed to the slice, and its first publish time (which fixes the
 * notification id). `attempt` counts the hand-ons because SES throttled the slice.
 */
export interface EmailTask {
  kind: 'email-recipients';
  envelope: Envelope;
  publishedAt: number;
  attempt: number;
}

/** Hands email tasks to a later invocation of the email consumer. */
export interface EmailContinuations {
  enqueue(task: EmailTask, delaySeconds?: number): Promise<void>;
  /** Several at once, in as few requests as the queue takes. */
  enqueueMany(tasks: readonly EmailTask[]): Promise<void>;
}

/** The envelope's recipients, for an envelope addressed to users (the only kind mailed). */
export function recipientsOf(envelope: Envelope): readonly string[] {
  return 'users' in envelope.to ? envelope.to.users : [];
}

/** Tasks of at most `size` recipients each, in order, covering `users` once. */
export function sliceTasks(
  envelope: Envelope,
  publishedAt: number,
  users: readonly string[],
  options: { size: number; attempt: number },
): EmailTask[] {
  const tasks: EmailTask[] = [];
  for (let start = 0; start < users.length; start += options.size) {
    tasks.push({
      kind: 'email-recipients',
      envelope: { ...envelope, to: { users: users.slice(start, start + options.size) } },
      publishedAt,
      attempt: options.attempt,
    });
  }
  return tasks;
}

/**
 * How many recipients one invocation may still take on, shared by the records of its batch
 * (they run side by side), so the whole invocation stays bounded whatever it was handed.
 */
export class EmailBudget {
  constructor(private remaining: number) {}

  /** Takes up to `wanted` recipients from the budget; returns how many it got. */
  take(wanted: number): number {
    const granted = Math.max(0, Math.min(wanted, this.remaining));
    this.remaining -= granted;
    return granted;
  }
}
