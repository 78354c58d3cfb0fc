import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { ENV, type EnvName } from '#config/env-names';
import { TABLE_KEYS, type TOPOLOGY } from '#config/topology';

export type TableName = keyof typeof TOPOLOGY.tables;

/** Which variable tells a function the physical name of each table. */
const TABLE_ENV: Record<TableName, EnvName> = {
  connections: ENV.connectionsTable,
  notifications: ENV.notificationsTable,
};

export interface HeraldTableProps {
  name: TableName;
}

/**
 * One of Herald's tables: the generic pk/sk schema every access pattern queries (no
 * indexes, so nothing ever needs a Scan), on demand, TTL, point-in-time recovery, and
 * retained when the stack goes so data outlives any deploy. The table knows its
 * environment variable so `HeraldFunction.bindTable` can set it with the grant.
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
    });
    this.envName = TABLE_ENV[props.name];
  }
}
