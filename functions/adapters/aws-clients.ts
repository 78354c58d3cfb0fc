/**
 * The one place that creates AWS SDK clients, once per container, and the one delivery that
 * posts to connections (`createSignedPostDelivery`). Endpoints come from
 * the SDK's standard `AWS_ENDPOINT_URL_<SERVICE>` variables (set by the local stack),
 * never from a branch in Herald's code. Each client is traced by Powertools' tracer where
 * tracing is on (see `traced`).
 */

import { Agent as HttpAgent } from 'node:http';
import { Agent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { SQSClient } from '@aws-sdk/client-sqs';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ConfigError } from '#config/config';
import { SignedPostDelivery } from './api-gateway-delivery';
import { traced } from './powertools';

/** Wraps a low-level client in the document client every Herald table adapter uses. */
export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/**
 * Sockets to DynamoDB per container: the fan-out keeps up to 64 users in flight, each with
 * a Query beside a write, more than the SDK's default of 50 would let through at once.
 */
export const DYNAMO_MAX_SOCKETS = 128;

/** The HTTP handler of every Herald DynamoDB client: keep-alive, DYNAMO_MAX_SOCKETS sockets. */
export function dynamoRequestHandler(): NodeHttpHandler {
  const agentOptions = { keepAlive: true, maxSockets: DYNAMO_MAX_SOCKETS };
  return new NodeHttpHandler({
    httpAgent: new HttpAgent(agentOptions),
    httpsAgent: new Agent(agentOptions),
  });
}

let documentClient: DynamoDBDocumentClient | undefined;
export function dynamoDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= createDocumentClient(
    traced(new DynamoDBClient({ requestHandler: dynamoRequestHandler() })),
  );
  return documentClient;
}

let sqsClient: SQSClient | undefined;
export function sqs(): SQSClient {
  // Address queues through the configured endpoint, not the host inside the queue URL:
  // the same in AWS for same-region queues, and emulators' URL hosts need not resolve.
  sqsClient ??= traced(new SQSClient({ useQueueUrlAsEndpoint: false }));
  return sqsClient;
}

let sesClient: SESClient | undefined;
export function ses(): SESClient {
  sesClient ??= traced(new SESClient({}));
  return sesClient;
}

/**
 * Herald's one way to post to connections, for every handler that pushes frames: posts
 * signed with the credentials of the SDK's default provider chain, for the region in
 * AWS_REGION (which Lambda always sets), over one keep-alive agent with as many sockets as
 * posts in flight (more would sit idle, fewer would queue posts behind each other). Each
 * handler calls it once, when it is wired (`wiredOnFirstCall`), so once per container.
 * Not traced: a subsegment per post would make a big broadcast's trace thousands of posts
 * long and slow the fan-out's hottest path; the callers' metrics and logs count what the
 * posts did.
 */
export function createSignedPostDelivery(
  callbackUrl: string,
  maxSockets: number,
  env: Record<string, string | undefined> = process.env,
  onThrottled?: () => void,
): SignedPostDelivery {
  const region = env.AWS_REGION?.trim();
  if (!region) throw new ConfigError('AWS_REGION must be set');
  let url: URL;
  try {
    url = new URL(callbackUrl);
  } catch (error) {
    throw new ConfigError(`the callback URL "${callbackUrl}" is not a URL`, { cause: error });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`the callback URL "${callbackUrl}" must be http(s)`);
  }
  const agentOptions = { keepAlive: true, maxSockets };
  return new SignedPostDelivery({
    callbackUrl,
    region,
    credentials: defaultProvider(),
    agent: url.protocol === 'https:' ? new Agent(agentOptions) : new HttpAgent(agentOptions),
    onThrottled,
  });
}
