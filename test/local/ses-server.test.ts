import { randomUUID } from 'node:crypto';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SesServer, startSesServer } from '#local/ses-server';

interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { text?: string; html?: string };
}

describe('startSesServer', () => {
  let ses: SesServer;
  let client: SESClient;

  beforeAll(async () => {
    ses = await startSesServer({ port: 0 });
    // The region Herald runs in; the emulator ignores it and takes SES v1 calls at `/`.
    client = new SESClient({
      endpoint: ses.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });

  afterAll(async () => {
    client?.destroy();
    await ses?.stop();
  });

  it('stores an SES v1 SendEmail with its recipient, subject and bodies', async () => {
    const subject = `New comment ${randomUUID()}`;
    const sent = await client.send(
      new SendEmailCommand({
        Source: 'herald@example.com',
        Destination: { ToAddresses: ['bob@example.com'] },
        Message: {
          Subject: { Data: subject },
          Body: {
            Text: { Data: 'Alice replied to your post' },
            Html: { Data: '<p>Alice replied to your post</p>' },
          },
        },
      }),
    );

    const response = await fetch(`${ses.url}/store`);
    expect(response.status).toBe(200);
    const { emails } = (await response.json()) as { emails: StoredEmail[] };
    const email = emails.find((e) => e.subject === subject);
    expect(email).toMatchObject({
      messageId: sent.MessageId,
      from: 'herald@example.com',
      destination: { to: ['bob@example.com'] },
      body: { text: 'Alice replied to your post', html: '<p>Alice replied to your post</p>' },
    });
  });

  it('serves the mail viewer at /', async () => {
    const response = await fetch(ses.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('refuses a port already in use', async () => {
    const port = Number(new URL(ses.url).port);
    await expect(startSesServer({ port })).rejects.toThrow(/could not listen/);
  });

  it('stops listening on stop(), and stop() is idempotent', async () => {
    const other = await startSesServer({ port: 0 });
    await expect(fetch(`${other.url}/health-check`)).resolves.toHaveProperty('status', 200);
    await Promise.all([other.stop(), other.stop()]);
    await expect(fetch(`${other.url}/health-check`)).rejects.toThrow();
  });
});
