/**
 * Guards Herald's patch of fauxqs (patches/fauxqs+<version>.patch): message-body filter policies
 * must match an array value when any element matches, as AWS does. Every array case here fails
 * on unpatched fauxqs, so this file fails if the patch stops applying.
 */
import { readdirSync, readFileSync } from 'node:fs';
import {
  CreateTopicCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPOLOGY } from '#config/topology';
// The module fauxqs itself evaluates filters with, imported by path: the patch lives in this file.
import {
  matchesFilterPolicy,
  matchesFilterPolicyOnBody,
} from '../../node_modules/fauxqs/dist/sns/filter.js';

const matches = (policy: Record<string, unknown>, body: Record<string, unknown>): boolean =>
  matchesFilterPolicyOnBody(policy, JSON.stringify(body));

describe('fauxqs patch', () => {
  it('exists for the installed fauxqs version', () => {
    const installed = JSON.parse(
      readFileSync(new URL('../../node_modules/fauxqs/package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    const patches = readdirSync(new URL('../../patches/', import.meta.url));
    expect(patches).toContain(`fauxqs+${installed.version}.patch`);
  });
});

describe('message-body filter with array values (patched matchesFilterPolicyOnBody)', () => {
  it("matches Herald's email filter when any element of channels is email", () => {
    const policy = TOPOLOGY.queues.email.filterPolicy;
    expect(matches(policy, { id: 'e1', channels: ['inapp', 'email'] })).toBe(true);
    expect(matches(policy, { id: 'e2', channels: ['email'] })).toBe(true);
    expect(matches(policy, { id: 'e3', channels: ['inapp'] })).toBe(false);
    expect(matches(policy, { id: 'e4', channels: [] })).toBe(false);
    expect(matches(policy, { id: 'e5' })).toBe(false);
  });

  it('keeps matching scalar values as before', () => {
    expect(matches({ channels: ['email'] }, { channels: 'email' })).toBe(true);
    expect(matches({ channels: ['email'] }, { channels: 'inapp' })).toBe(false);
  });

  it('matches numeric conditions against any element', () => {
    const policy = { scores: [{ numeric: ['>', 10, '<=', 20] }] };
    expect(matches(policy, { scores: [3, 12] })).toBe(true);
    expect(matches(policy, { scores: [3, 25] })).toBe(false);
    expect(matches({ scores: [12] }, { scores: [3, 12] })).toBe(true);
  });

  it('matches prefix conditions against any element', () => {
    const policy = { topics: [{ prefix: 'project.' }] };
    expect(matches(policy, { topics: ['org.acme', 'project.42'] })).toBe(true);
    expect(matches(policy, { topics: ['org.acme'] })).toBe(false);
  });

  it('matches anything-but when some element is not excluded (AWS documented example)', () => {
    const policy = { interests: [{ 'anything-but': ['rugby', 'tennis'] }] };
    expect(matches(policy, { interests: ['rugby', 'baseball'] })).toBe(true);
    expect(matches(policy, { interests: ['rugby', 'tennis'] })).toBe(false);
    expect(matches({ tags: [{ 'anything-but': { prefix: 'x-' } }] }, { tags: ['x-a', 'b'] })).toBe(
      true,
    );
  });

  it('treats a non-empty array as present for exists', () => {
    expect(matches({ channels: [{ exists: true }] }, { channels: ['email'] })).toBe(true);
    expect(matches({ channels: [{ exists: false }] }, { id: 'x', channels: ['email'] })).toBe(
      false,
    );
    expect(matches({ channels: [{ exists: false }] }, { id: 'x' })).toBe(true);
  });

  it('matches nested keys whose value is an array, and arrays of objects', () => {
    const policy = { to: { users: ['bob'] } };
    expect(matches(policy, { to: { users: ['alice', 'bob'] } })).toBe(true);
    expect(matches(policy, { to: { users: ['alice'] } })).toBe(false);
    expect(matches({ items: { kind: ['b'] } }, { items: [{ kind: 'a' }, { kind: 'b' }] })).toBe(
      true,
    );
    expect(matches({ items: { kind: ['c'] } }, { items: [{ kind: 'a' }, { kind: 'b' }] })).toBe(
      false,
    );
  });

  it('still ANDs keys and ORs $or groups with array values', () => {
    const policy = { type: ['comment.created'], channels: ['email'] };
    expect(matches(policy, { type: 'comment.created', channels: ['inapp', 'email'] })).toBe(true);
    expect(matches(policy, { type: 'other', channels: ['inapp', 'email'] })).toBe(false);
    const either = { $or: [{ channels: ['email'] }, { urgent: [true] }] };
    expect(matches(either, { channels: ['inapp', 'email'] })).toBe(true);
    expect(matches(either, { channels: ['inapp'], urgent: false })).toBe(false);
  });

  it('leaves message-attribute filtering unchanged', () => {
    const attributes = { kind: { DataType: 'String', StringValue: 'email' } };
    expect(matchesFilterPolicy({ kind: ['email'] }, attributes)).toBe(true);
    expect(matchesFilterPolicy({ kind: ['inapp'] }, attributes)).toBe(false);
  });
});

describe('message-body filter with array values through SNS -> SQS (fauxqs)', () => {
  let server: FauxqsServer;
  let sns: SNSClient;
  let sqs: SQSClient;

  beforeAll(async () => {
    server = await startFauxqs({ port: 0, logger: false });
    const config = {
      endpoint: server.address,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    sns = new SNSClient(config);
    sqs = new SQSClient(config);
  });

  afterAll(async () => {
    sns?.destroy();
    sqs?.destroy();
    await server?.stop();
  });

  async function filteredQueue(topicArn: string, name: string, policy: unknown): Promise<string> {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: Attributes?.QueueArn,
        Attributes: { FilterPolicy: JSON.stringify(policy), FilterPolicyScope: 'MessageBody' },
      }),
    );
    return QueueUrl ?? '';
  }

  async function receivedIds(queueUrl: string): Promise<string[]> {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    return Messages.map((m) => {
      const wrapper = JSON.parse(m.Body ?? '{}') as { Message: string };
      return (JSON.parse(wrapper.Message) as { id: string }).id;
    }).sort();
  }

  it('delivers exactly the messages whose arrays match', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'filter-patch' }));
    const email = await filteredQueue(TopicArn ?? '', 'filter-email', {
      channels: ['email'],
    });
    const nested = await filteredQueue(TopicArn ?? '', 'filter-nested', {
      to: { users: [{ prefix: 'bo' }] },
    });

    const bodies = [
      { id: 'both', channels: ['inapp', 'email'], to: { users: ['alice', 'bob'] } },
      { id: 'inapp', channels: ['inapp'], to: { users: ['alice'] } },
      { id: 'none', to: { topic: 'project.42' } },
    ];
    for (const body of bodies) {
      // fauxqs fans out before Publish returns, so the queues are complete afterwards.
      await sns.send(new PublishCommand({ TopicArn, Message: JSON.stringify(body) }));
    }

    expect(await receivedIds(email)).toEqual(['both']);
    expect(await receivedIds(nested)).toEqual(['both']);
  });
});
