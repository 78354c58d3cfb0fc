/**
 * The one place that creates AWS SDK clients, once per container. Endpoints come from
 * the SDK's standard `AWS_ENDPOINT_URL_<SERVICE>` variables (set by the local stack),
 * never from a branch in Herald's code. Each client is traced by Powertools' tracer where
 * tracing is on (see `traced`).
 */

import { Agent as HttpAgent } from 'node:http';
import { Agent } from 'node:https';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { traced } from './powertools';

/** Wraps a low-level client in the document client every Herald table adapter uses. */
export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

let documentClient: DynamoDBDocumentClient | undefined;
export function dynamoDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= createDocumentClient(traced(new DynamoDBClient({})));
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
 * The management API client for one stage's callback URL, with as many keep-alive
 * sockets as the fan-out keeps posts in flight: more sockets than that would sit idle,
 * fewer would queue posts behind each other. Not traced: a subsegment per post would make
 * a big broadcast's trace thousands of posts long and slow the fan-out's hottest path;
 * the fan-out's metrics count what the posts did.
 */
export function createManagementClient(
  callbackUrl: string,
  maxSockets: number,
): ApiGatewayManagementApiClient {
  const agentOptions = { keepAlive: true, maxSockets };
  return new ApiGatewayManagementApiClient({
    endpoint: callbackUrl,
    // Herald retries throttling itself, per connection, with jitter (see core/deliver).
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new Agent(agentOptions),
    }),
  });
}
