/**
 * SES feedback for the local stack: aws-ses-v2-local never bounces, so a test (or a
 * developer) hands the stack a bounce or complaint as SES would publish it, and the stack
 * runs the very `ses-feedback` handler with it in the SNS event Lambda would receive.
 */
import { randomUUID } from 'node:crypto';
import type { SNSEvent } from 'aws-lambda';

/** What SES publishes for a bounce, in the shape of a configuration set's event. */
export interface BounceFeedback {
  kind: 'bounce';
  addresses: string[];
  /** `Permanent` suppresses; `Transient` and `Undetermined` do not. */
  bounceType: 'Permanent' | 'Transient' | 'Undetermined';
  bounceSubType?: string;
}

export interface ComplaintFeedback {
  kind: 'complaint';
  addresses: string[];
  complaintFeedbackType?: string;
}

export type SesFeedback = BounceFeedback | ComplaintFeedback;

/** The SES event a configuration set's event destination publishes for `feedback`. */
export function sesEventOf(feedback: SesFeedback, now = new Date()): Record<string, unknown> {
  const timestamp = now.toISOString();
  const feedbackId = randomUUID();
  const mail = { timestamp, messageId: randomUUID(), destination: feedback.addresses };
  const recipients = feedback.addresses.map((emailAddress) => ({ emailAddress }));
  if (feedback.kind === 'bounce') {
    return {
      eventType: 'Bounce',
      bounce: {
        bounceType: feedback.bounceType,
        bounceSubType: feedback.bounceSubType ?? 'General',
        bouncedRecipients: recipients,
        timestamp,
        feedbackId,
      },
      mail,
    };
  }
  return {
    eventType: 'Complaint',
    complaint: {
      complainedRecipients: recipients,
      complaintFeedbackType: feedback.complaintFeedbackType,
      timestamp,
      feedbackId,
    },
    mail,
  };
}

/** The SNS event Lambda receives for one message published to `topicArn`. */
export function snsEventOf(topicArn: string, message: string): SNSEvent {
  const messageId = randomUUID();
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${topicArn}:${randomUUID()}`,
        Sns: {
          Type: 'Notification',
          MessageId: messageId,
          TopicArn: topicArn,
          Subject: '',
          Message: message,
          Timestamp: new Date().toISOString(),
          SignatureVersion: '1',
          Signature: '',
          SigningCertUrl: '',
          UnsubscribeUrl: '',
          MessageAttributes: {},
        },
      },
    ],
  };
}
