import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SesMailer } from '#adapters/ses-mailer';
import { RetryableError } from '#core/errors';

const sesMock = mockClient(SESClient);
const mailer = new SesMailer(new SESClient({ region: 'us-east-1' }), 'herald@example.com');

beforeEach(() => {
  sesMock.reset();
  sesMock.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
});
afterAll(() => sesMock.restore());

function sentInputs() {
  return sesMock.commandCalls(SendEmailCommand).map((call) => call.args[0].input);
}

describe('SesMailer', () => {
  it('sends one SendEmail with source, destination, subject, text and html in UTF-8', async () => {
    await mailer.send({
      to: 'alice@example.com',
      subject: 'New comment – ünïcode',
      text: 'Bob replied',
      html: '<p>Bob replied</p>',
    });
    expect(sentInputs()).toEqual([
      {
        Source: 'herald@example.com',
        Destination: { ToAddresses: ['alice@example.com'] },
        Message: {
          Subject: { Data: 'New comment – ünïcode', Charset: 'UTF-8' },
          Body: {
            Text: { Data: 'Bob replied', Charset: 'UTF-8' },
            Html: { Data: '<p>Bob replied</p>', Charset: 'UTF-8' },
          },
        },
      },
    ]);
  });

  it('sends no Html part for a text-only mail', async () => {
    await mailer.send({ to: 'bob@example.com', subject: 'Hi', text: 'Plain' });
    expect(sentInputs()[0]?.Message?.Body).toEqual({ Text: { Data: 'Plain', Charset: 'UTF-8' } });
  });

  it('lets a refusal reach the caller', async () => {
    sesMock
      .on(SendEmailCommand)
      .rejects(
        Object.assign(new Error('Email address is not verified.'), { name: 'MessageRejected' }),
      );
    await expect(mailer.send({ to: 'x@example.com', subject: 's', text: 't' })).rejects.toThrow(
      'not verified',
    );
  });
});

describe('SesMailer when SES says "not now"', () => {
  it.each([
    ['Throttling', 400],
    ['TooManyRequestsException', 429],
    ['ServiceUnavailable', 503],
  ])('turns %s (%i) into a RetryableError carrying the cause', async (name, status) => {
    const cause = Object.assign(new Error('Maximum sending rate exceeded.'), {
      name,
      $metadata: { httpStatusCode: status },
    });
    sesMock.on(SendEmailCommand).rejects(cause);
    const sent = mailer.send({ to: 'x@example.com', subject: 's', text: 't' });
    await expect(sent).rejects.toBeInstanceOf(RetryableError);
    await expect(sent).rejects.toMatchObject({ cause });
  });

  it('lets a refusal through as it is, not as retryable', async () => {
    sesMock
      .on(SendEmailCommand)
      .rejects(Object.assign(new Error('Illegal address'), { name: 'MessageRejected' }));
    const sent = mailer.send({ to: 'x@example.com', subject: 's', text: 't' });
    await expect(sent).rejects.not.toBeInstanceOf(RetryableError);
    await expect(sent).rejects.toThrow('Illegal address');
  });
});
