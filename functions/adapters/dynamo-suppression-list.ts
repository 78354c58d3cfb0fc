import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { normalizeAddress, type SuppressionList, type SuppressionRecord } from '#core/suppression';

const SUPPRESSED_PREFIX = 'SUPPRESSED#';
const SUPPRESSED_SK = 'SUPPRESSED';

/**
 * Suppression records (`pk = SUPPRESSED#<address>`, `sk = SUPPRESSED`) in the notifications
 * table: one per lower-cased address, across tenants (SES's reputation is the account's),
 * kept until removed by hand. The latest feedback for an address replaces the one before.
 */
export class DynamoSuppressionList implements SuppressionList {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async suppress(record: SuppressionRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...suppressionKey(record.address), ...record },
      }),
    );
  }

  async suppressed(address: string): Promise<SuppressionRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: suppressionKey(address) }),
    );
    if (Item === undefined) return undefined;
    const { pk: _pk, sk: _sk, ...record } = Item;
    return record as SuppressionRecord;
  }
}

export function suppressionKey(address: string): { pk: string; sk: string } {
  return { pk: `${SUPPRESSED_PREFIX}${normalizeAddress(address)}`, sk: SUPPRESSED_SK };
}
