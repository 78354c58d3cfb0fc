/**
 * fauxqs for the SQS runner tests: one server on a free port per test file, an SQS client for
 * it, and the questions those tests ask a queue. Call `startTestQueues()` in `beforeAll` and
 * `stop()` in `afterAll`.
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';

export interface TestQueues {
  sqs: SQSClient;
  arnOf(url: string): Promise<string>;
  /** Messages in the queue, waiting or in flight. */
  messagesIn(url: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startTestQueues(): Promise<TestQueues> {
  const server = await startFauxqs({ port: 0, logger: false });
  const sqs = new SQSClient({
    endpoint: server.address,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return {
    sqs,
    async arnOf(url) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
      return Attributes?.QueueArn ?? '';
    },
    async messagesIn(url) {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible)
      );
    },
    async stop() {
      sqs.destroy();
      await server.stop();
    },
  };
}
