import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { ENV, type EnvName } from '#config/env-names';
import { INBOX_INDEX_LIST, INBOX_INDEX_PROJECTION } from '#config/inbox-indexes';
import { TABLE_KEYS, type TOPOLOGY } from '#config/topology';

export type TableName = keyof typeof TOPOLOGY.tables;

/** Which variable tells a function the physical name of each table. */
const TABLE_ENV: Record<TableName, EnvName> = {
  connections: ENV.connectionsTable,
  notifications: ENV.notificationsTable,
};

export interface HeraldTableProps {
  name: TableName;
  /**
   * The sparse local indexes of a user's notifications (`#config/inbox-indexes`: unread,
   * unseen, visible, hidden), which the counts are Queries of and the lists read. Local,
   * so they read strongly consistent; an LSI can only be created with its table.
   */
  inboxIndexes?: boolean;
  /**
   * A stream of the old image of every changed item, for the inbox-expiry function to hear
   * DynamoDB's TTL deletions. Adding or changing a table's stream is an in-place update
   * (CloudFormation: "no interruption"), never a replacement, so the retained table and its
   * local index stay as they are.
   */
  oldImageStream?: boolean;
}

/**
 * One of Herald's tables: the generic pk/sk schema every access pattern queries (so
 * nothing ever needs a Scan; the notifications table adds its sparse local indexes), on demand, TTL, point-in-time recovery, and
 * retained when the stack goes so data outlives any deploy. The table knows its
 * environment variable so `bindTable` (function-grants.ts) can set it with the grant.
 */
export class HeraldTable extends Table {
  readonly envName: EnvName;

  constructor(scope: Construct, id: string, props: HeraldTableProps) {
    super(scope, id, {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE_KEYS.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
      // The expiry handler reads only the keys and the old image's `read`.
      stream: props.oldImageStream ? StreamViewType.OLD_IMAGE : undefined,
    });
    this.envName = TABLE_ENV[props.name];
    if (props.inboxIndexes) {
      for (const index of INBOX_INDEX_LIST) {
        this.addLocalSecondaryIndex({
          indexName: index.name,
          sortKey: { name: index.sortKey, type: AttributeType.STRING },
          projectionType: ProjectionType.INCLUDE,
          nonKeyAttributes: [...INBOX_INDEX_PROJECTION],
        });
      }
    }
  }
}
