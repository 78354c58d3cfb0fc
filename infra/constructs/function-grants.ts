import { Stack, Validations } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { ENV } from '#config/env-names';
import type { HeraldFunction } from './herald-function';
import type { HeraldTable } from './herald-table';

/**
 * The item-level DynamoDB actions Herald's adapters send (the document client's Get, Put,
 * Update, Delete, Query, BatchGet and BatchWrite). No Scan, no ConditionCheckItem, no
 * wildcards: a function is granted the ones its adapters really call.
 */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem';

/** What a function may do on one table: on its items, and which of its indexes it may Query. */
export interface TableAccess {
  readonly items?: readonly TableAction[];
  /** Index names, each granted Query alone (the only action that reads an index). */
  readonly queryIndexes?: readonly string[];
}

/**
 * Grants exactly `access` on the table (and its indexes) and tells the function the table's
 * name, in one step, so the variable and the permission cannot drift apart.
 */
export function bindTable(fn: HeraldFunction, table: HeraldTable, access: TableAccess): void {
  const items = [...new Set(access.items ?? [])];
  if (items.length > 0) {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: items.map((action) => `dynamodb:${action}`),
        resources: [table.tableArn],
      }),
    );
  }
  const indexes = [...new Set(access.queryIndexes ?? [])];
  if (indexes.length > 0) {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        // Each index by name: no `index/*` that would cover one added later.
        resources: indexes.map((name) => `${table.tableArn}/index/${name}`),
      }),
    );
  }
  fn.addEnvironment(table.envName, table.tableName);
}

/**
 * The `@connections` methods of API Gateway's management API: POST sends a frame,
 * DELETE closes a socket, GET reads a connection's details.
 */
export type ConnectionMethod = 'POST' | 'DELETE' | 'GET';

/**
 * Lets the function call only `methods` on this stage's `@connections`, and tells it the
 * stage's callback URL (the management endpoint comes from configuration, never a request).
 * Unlike `WebSocketStage.grantManagementApiAccess`, which allows every method.
 */
export function bindConnections(
  fn: HeraldFunction,
  stage: WebSocketStage,
  methods: readonly ConnectionMethod[],
): void {
  const stack = Stack.of(fn);
  const unique = [...new Set(methods)];
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['execute-api:ManageConnections'],
      resources: unique.map((method) =>
        stack.formatArn({
          service: 'execute-api',
          resource: stage.api.apiId,
          resourceName: `${stage.stageName}/${method}/@connections/*`,
        }),
      ),
    }),
  );
  fn.addEnvironment(ENV.callbackUrl, stage.callbackUrl);
  // cdk-nag names each wildcard resource with the API's logical id as `<id>`.
  const apiRef = stack.resolve(stage.api.apiId) as { Ref: string };
  for (const method of unique) {
    const resource = `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiRef.Ref}>/${stage.stageName}/${method}/@connections/*`;
    acknowledgeOnRole(
      fn,
      `AwsSolutions-IAM5[Resource::${resource}]`,
      `${method} @connections/* of this stage only: the connection id is known only at run time`,
    );
  }
}

/** Acknowledges a cdk-nag finding on the function's role policy (where IAM findings are raised). */
export function acknowledgeOnRole(fn: HeraldFunction, id: string, reason: string): void {
  if (!fn.role) throw new Error(`${fn.node.path} has no role`);
  Validations.of(fn.role).acknowledge({ id, reason });
}

/** An SQS event source mapping has no on-failure destination: its queue's redrive policy is. */
export function acknowledgeNoMappingDestination(fn: HeraldFunction): void {
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaEventSourceMappingDestination',
    reason:
      'SQS event source mappings take no on-failure destination; a message that keeps ' +
      "failing moves to the queue's dead-letter queue by its redrive policy",
  });
}
