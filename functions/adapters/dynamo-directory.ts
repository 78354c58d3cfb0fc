import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Directory } from '#core/ports';
import { userPartition } from './dynamo-keys';

const PROFILE_SK = 'PROFILE';

/** User profile items (`sk = PROFILE`) in the notifications table. */
export class DynamoDirectory implements Directory {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async rememberEmail(tenant: string, userId: string, email: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: userPartition(tenant, userId), sk: PROFILE_SK },
        UpdateExpression: 'SET email = :email, updatedAt = :now',
        ExpressionAttributeValues: { ':email': email, ':now': this.now() },
      }),
    );
  }

  async emailOf(tenant: string, userId: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: userPartition(tenant, userId), sk: PROFILE_SK },
        ProjectionExpression: 'email',
      }),
    );
    return typeof Item?.email === 'string' ? Item.email : undefined;
  }
}
