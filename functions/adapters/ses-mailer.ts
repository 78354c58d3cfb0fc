import { type SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { RetryableError } from '#core/errors';
import type { Mail, Mailer } from '#core/ports';

/** SES's names for "not now": its send rate exceeded (`Throttling`) or a passing fault. */
const RETRYABLE_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'InternalFailure',
]);

export class SesMailer implements Mailer {
  constructor(
    private readonly ses: SESClient,
    private readonly from: string,
    /** The configuration set every send names, so SES reports its bounces and complaints. */
    private readonly configurationSet?: string,
  ) {}

  /** Throws RetryableError when SES throttles (or fails on its side); any other error as is. */
  async send(mail: Mail): Promise<void> {
    try {
      await this.ses.send(
        new SendEmailCommand({
          Source: this.from,
          ConfigurationSetName: this.configurationSet,
          Destination: { ToAddresses: [mail.to] },
          Message: {
            Subject: { Data: mail.subject, Charset: 'UTF-8' },
            Body: {
              Text: { Data: mail.text, Charset: 'UTF-8' },
              ...(mail.html ? { Html: { Data: mail.html, Charset: 'UTF-8' } } : {}),
            },
          },
        }),
      );
    } catch (error) {
      if (isRetryable(error)) throw new RetryableError('SES throttled the send', { cause: error });
      throw error;
    }
  }
}

function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return RETRYABLE_NAMES.has(error.name) || status === 429 || (status ?? 0) >= 500;
}
