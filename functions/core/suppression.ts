/**
 * The suppression list: addresses Herald no longer mails because SES told it they bounced
 * for good or complained. What SES reports (its bounce and complaint events, published by
 * the configuration set to SNS) becomes one record per address; only a Permanent bounce or
 * a complaint suppresses. A Transient bounce (mailbox full, out of office) or an Undetermined
 * one is SES's to retry, not a reason to stop mailing.
 */
import { z } from 'zod';

export type SuppressionReason = 'bounce' | 'complaint';

export interface SuppressionRecord {
  /** Lower-cased: SES and mailboxes treat addresses case-insensitively. */
  address: string;
  reason: SuppressionReason;
  /** `Permanent`, with SES's subtype (`General`, `NoEmail`, `Suppressed` …), for a bounce. */
  bounceType?: string;
  bounceSubType?: string;
  /** The complainant's feedback type (`abuse` …), when SES knows it. */
  complaintFeedbackType?: string;
  /** When SES saw it (ms since the epoch). */
  at: number;
  /** SES's id of the feedback, to find it in SES's own records. */
  feedbackId?: string;
}

/** Where suppressions are kept: one record per address, the latest winning. */
export interface SuppressionList {
  suppress(record: SuppressionRecord): Promise<void>;
  suppressed(address: string): Promise<SuppressionRecord | undefined>;
}

const recipients = z.array(z.object({ emailAddress: z.string().min(3).max(320) }));

/**
 * SES's feedback as published to SNS: `eventType` from a configuration set's event
 * destination, `notificationType` from an identity's feedback notifications. Other event
 * types (Delivery, Send …) are accepted and ignored.
 */
const feedbackSchema = z.object({
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  bounce: z
    .object({
      bounceType: z.string(),
      bounceSubType: z.string().optional(),
      bouncedRecipients: recipients,
      timestamp: z.string().optional(),
      feedbackId: z.string().optional(),
    })
    .optional(),
  complaint: z
    .object({
      complainedRecipients: recipients,
      complaintFeedbackType: z.string().optional(),
      timestamp: z.string().optional(),
      feedbackId: z.string().optional(),
    })
    .optional(),
});

export class InvalidFeedbackError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidFeedbackError';
  }
}

/** The suppressions one SES feedback message calls for (none for soft bounces and the rest). */
export function suppressionsFrom(feedback: unknown, now: number): SuppressionRecord[] {
  const parsed = feedbackSchema.safeParse(feedback);
  if (!parsed.success) {
    throw new InvalidFeedbackError(
      `not SES feedback: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`,
    );
  }
  const { bounce, complaint } = parsed.data;
  const kind = parsed.data.eventType ?? parsed.data.notificationType;
  if (kind === 'Bounce' && bounce?.bounceType === 'Permanent') {
    const at = timeOf(bounce.timestamp, now);
    return bounce.bouncedRecipients.map(({ emailAddress }) => ({
      address: normalizeAddress(emailAddress),
      reason: 'bounce',
      bounceType: bounce.bounceType,
      bounceSubType: bounce.bounceSubType,
      at,
      feedbackId: bounce.feedbackId,
    }));
  }
  if (kind === 'Complaint' && complaint) {
    const at = timeOf(complaint.timestamp, now);
    return complaint.complainedRecipients.map(({ emailAddress }) => ({
      address: normalizeAddress(emailAddress),
      reason: 'complaint',
      complaintFeedbackType: complaint.complaintFeedbackType,
      at,
      feedbackId: complaint.feedbackId,
    }));
  }
  return [];
}

/** The bare, lower-cased address of `Name <addr>` or `addr`. */
export function normalizeAddress(address: string): string {
  const bare = /<([^<>]+)>\s*$/.exec(address)?.[1] ?? address;
  return bare.trim().toLowerCase();
}

function timeOf(timestamp: string | undefined, now: number): number {
  const parsed = timestamp === undefined ? Number.NaN : Date.parse(timestamp);
  return Number.isFinite(parsed) ? parsed : now;
}
