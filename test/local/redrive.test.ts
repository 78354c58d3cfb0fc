/**
 * `npm run redrive` against the launched local stack: a dead-lettered envelope is reported
 * with its `herald.reason`, left in place by a dry run, and moved back and delivered by a
 * real run of the command.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redriveByCopy } from '#local/dlq-redrive';
import { heldIn } from '#local/queue-depth';
import { localQueues, redriveArgs } from '#local/redrive';
import { type E2e, eventually, inboxEventIds, startE2e } from '#test/support/e2e';

const run = promisify(execFile);
let e2e: E2e;

beforeAll(async () => {
  e2e = await startE2e();
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

const REASON = 'DynamoDB was throttling (test)';

async function deadLetter(envelope: Record<string, unknown>): Promise<void> {
  await e2e.sqs.send(
    new SendMessageCommand({
      QueueUrl: e2e.stack.queues.fanOut.deadLetterUrl,
      MessageBody: JSON.stringify(envelope),
      MessageAttributes: { 'herald.reason': { DataType: 'String', StringValue: REASON } },
    }),
  );
}

describe('redrive', () => {
  it('reads the queue to redrive and its flags, and refuses anything else', () => {
    expect(redriveArgs(['email', '--dry-run'])).toEqual({
      queue: 'email',
      dryRun: true,
      aws: false,
      stack: 'HeraldData',
    });
    expect(redriveArgs(['fan-out', '--aws', '--stack', 'Other'])).toMatchObject({
      queue: 'fanOut',
      aws: true,
      stack: 'Other',
    });
    expect(() => redriveArgs([])).toThrow(/fan-out or email/);
    expect(() => redriveArgs(['inbox'])).toThrow(/fan-out or email/);
    expect(() => redriveArgs(['email', '--force'])).toThrow();
  });

  it('finds the local queues by their topology names', async () => {
    const { fanOut } = e2e.stack.queues;
    expect(await localQueues(e2e.sqs, 'fanOut')).toEqual({
      sourceUrl: fanOut.url,
      deadLetterUrl: fanOut.deadLetterUrl,
    });
  });

  it('reports a dead letter on a dry run and leaves it; npm run redrive moves it back and it is delivered', async () => {
    const ann = await e2e.connect('redrive-ann');
    await deadLetter({
      id: 'evt-redriven',
      type: 'comment.created',
      to: { users: ['redrive-ann'] },
    });
    const queues = await localQueues(e2e.sqs, 'fanOut');

    const dry = await redriveByCopy(e2e.sqs, queues, { dryRun: true });
    expect(dry).toEqual({ moved: 1, reasons: { [REASON]: 1 }, dryRun: true });
    expect(await heldIn(e2e.sqs, queues.deadLetterUrl)).toBe(1);
    expect(ann.notifications()).toEqual([]);

    const port = new URL(e2e.stack.urls.sqs).port;
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'local/redrive.ts', 'fan-out'],
      { env: { ...process.env, HERALD_SQS_PORT: port, AWS_ENDPOINT_URL_SQS: undefined } },
    );
    expect(stdout).toContain('moved 1 message(s) back to herald-fan-out');
    expect(stdout).toContain(`1 × ${REASON}`);

    await eventually(() =>
      expect(ann.notifications().map((each) => each.eventId)).toEqual(['evt-redriven']),
    );
    expect(await inboxEventIds(e2e, 'redrive-ann')).toEqual(['evt-redriven']);
    expect(await heldIn(e2e.sqs, queues.deadLetterUrl)).toBe(0);
  }, 60_000);
});
