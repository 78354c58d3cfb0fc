/**
 * For unit tests of the DynamoDB adapters over aws-sdk-client-mock: a document client
 * built as the handlers build theirs, and the errors DynamoDB answers with.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '#adapters/aws-clients';

/** A document client whose requests reach whatever `mockClient(DynamoDBDocumentClient)` answers. */
export function mockedDocumentClient(): DynamoDBDocumentClient {
  return createDocumentClient(
    new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    }),
  );
}

export const throttled = () =>
  new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });

export const conditionFailed = (Item?: ConditionalCheckFailedException['Item']) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item,
  });
