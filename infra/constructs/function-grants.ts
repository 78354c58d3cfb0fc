import { Stack } from 'aws-cdk-lib';
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

/** What a function may do on one table: on its items, and on its indexes (only Query reads one). */
export interface TableAccess {
  readonly items?: readonly TableAction[];
  readonly indexes?: readonly 'Query'[];
}

/**
 * Grants exactly `access` on the table (and its indexes) and tells the function the table's
 * name, in one step, so the variable and the permission cannot drift apart.
 */
export function bindTable(fn: HeraldFunction, table: HeraldTable, access: TableAccess): void {
  const statement = (actions: readonly string[], resource: string): void => {
    if (actions.length === 0) return;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [...new Set(actions)].map((action) => `dynamodb:${action}`),
        resources: [resource],
      }),
    );
  };
  statement(access.items ?? [], table.tableArn);
  statement(access.indexes ?? [], `${table.tableArn}/index/*`);
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
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['execute-api:ManageConnections'],
      resources: [...new Set(methods)].map((method) =>
        stack.formatArn({
          service: 'execute-api',
          resource: stage.api.apiId,
          resourceName: `${stage.stageName}/${method}/@connections/*`,
        }),
      ),
    }),
  );
  fn.addEnvironment(ENV.callbackUrl, stage.callbackUrl);
}
