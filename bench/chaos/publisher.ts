/**
 * Publishing a chaos run through the real SNS path: the planned envelopes in phases, the
 * duplicates (a publisher's retries, same id) interleaved later, the invalid ones among them.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { inTurns } from './devices';

export interface Publisher {
  /** Publishes each text, `concurrency` at a time; a failed publish is retried, as a publisher would. */
  publish(texts: readonly string[]): Promise<void>;
  /** Publishes that SNS refused and were sent again. */
  readonly retries: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createPublisher(sns: SNSClient, topicArn: string, concurrency: number): Publisher {
  let retries = 0;
  const send = async (Message: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await sns.send(new PublishCommand({ TopicArn: topicArn, Message }));
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        retries++;
        await sleep(100 * attempt);
      }
    }
  };
  return {
    publish: (texts) => inTurns(texts, concurrency, send),
    get retries() {
      return retries;
    },
  };
}

/** Splits `items` into `parts` consecutive slices of near-equal size. */
export function thirds<T>(items: readonly T[], parts = 3): T[][] {
  return Array.from({ length: parts }, (_, part) =>
    items.slice(
      Math.floor((items.length * part) / parts),
      Math.floor((items.length * (part + 1)) / parts),
    ),
  );
}
