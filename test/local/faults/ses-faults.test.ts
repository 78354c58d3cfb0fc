import { randomUUID } from 'node:crypto';
import { SESClient, SESServiceException, SendEmailCommand } from '@aws-sdk/client-ses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultPlan } from '#local/faults/fault-plan';
import type { FaultProxy } from '#local/faults/fault-proxy';
import { startSesFaults } from '#local/faults/ses-faults';
import { type SesServer, startSesServer } from '#local/ses-server';
import { outcomeOf } from '#test/support/faults';

let ses: SesServer;
const proxies: FaultProxy[] = [];
const clients: SESClient[] = [];

beforeAll(async () => {
  ses = await startSesServer({ port: 0 });
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(proxies.map((proxy) => proxy.stop()));
  await ses?.stop();
});

async function through(plan: FaultPlan, maxAttempts = 1) {
  const proxy = await startSesFaults(ses.url, plan);
  proxies.push(proxy);
  const client = new SESClient({
    endpoint: proxy.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts,
  });
  clients.push(client);
  return { proxy, client };
}

function mail(subject: string) {
  return new SendEmailCommand({
    Source: 'herald@example.com',
    Destination: { ToAddresses: ['bob@example.com'] },
    Message: { Subject: { Data: subject }, Body: { Text: { Data: 'hello' } } },
  });
}

async function storedSubjects(): Promise<string[]> {
  const response = await fetch(`${ses.url}/store`);
  const { emails } = (await response.json()) as { emails: Array<{ subject: string }> };
  return emails.map((email) => email.subject);
}

describe('SES fault proxy (in front of aws-ses-v2-local)', () => {
  it('refuses every send at rate 1 with the error SES gives, and nothing is mailed', async () => {
    const { client } = await through({ ses: { errorRate: 1 }, seed: 3 });
    const subject = `refused ${randomUUID()}`;
    const errors: SESServiceException[] = [];
    for (let i = 0; i < 12; i++) {
      errors.push(
        (await client.send(mail(subject)).catch((e: unknown) => e)) as SESServiceException,
      );
    }
    for (const error of errors) {
      expect(error).toBeInstanceOf(SESServiceException);
      if (error.name === 'Throttling') {
        expect(error.$metadata.httpStatusCode).toBe(400);
        expect(error.message).toBe('Maximum sending rate exceeded.');
        expect(error.$fault).toBe('client');
      } else {
        expect(error.name).toBe('InternalFailure');
        expect(error.$metadata.httpStatusCode).toBe(500);
        expect(error.$fault).toBe('server');
      }
    }
    expect(new Set(errors.map((error) => error.name))).toEqual(
      new Set(['Throttling', 'InternalFailure']),
    );
    expect(await storedSubjects()).not.toContain(subject);
  });

  it('lets the mail viewer and the store through at rate 1', async () => {
    const { proxy } = await through({ ses: { errorRate: 1 } });
    expect((await fetch(proxy.url)).status).toBe(200);
    expect((await fetch(`${proxy.url}/store`)).status).toBe(200);
  });

  it('passes every send at rate 0', async () => {
    const { client } = await through({ ses: { errorRate: 0 } });
    const subject = `passed ${randomUUID()}`;
    const { MessageId } = await client.send(mail(subject));
    expect(MessageId).toBeTruthy();
    expect(await storedSubjects()).toContain(subject);
  });

  it('fails the same sends again for the same seed', async () => {
    const sequence = async () => {
      const { client } = await through({ ses: { errorRate: 0.5 }, seed: 5 });
      const outcomes: string[] = [];
      for (let i = 0; i < 20; i++) outcomes.push(await outcomeOf(client.send(mail('seeded'))));
      return outcomes;
    };
    const first = await sequence();
    expect(first).toContain('ok');
    expect(first.some((each) => each !== 'ok')).toBe(true);
    expect(await sequence()).toEqual(first);
  });
});
