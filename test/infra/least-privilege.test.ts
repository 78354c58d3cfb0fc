import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRODUCTION_SECRET_ARN, productionApp } from '#test/support/production-app';

/**
 * Every IAM permission of every Herald function, as the synthesized template grants it.
 * A function that gains an action, or a new function, fails here until its row below says
 * so: the table is the review of what each function may do. Actions come from reading the
 * adapters each handler wires (functions/handlers/*.ts), e.g. the connection store's `put`
 * and `remove` are BatchWriteItem, `subscribe` is UpdateItem.
 */

const SECRET_ARN = PRODUCTION_SECRET_ARN;

const CONNECTIONS = 'HeraldData:Connections';
const NOTIFICATIONS = 'HeraldData:Notifications';
const UNREAD_INDEX = 'HeraldData:Notifications/index/unread';
const UNSEEN_INDEX = 'HeraldData:Notifications/index/unseen';
const VISIBLE_INDEX = 'HeraldData:Notifications/index/visible';

/** `dynamodb:<action> <resource>` for each action. */
const dynamo = (resource: string, ...actions: string[]): string[] =>
  actions.map((action) => `dynamodb:${action} ${resource}`);

/** ManageConnections on this stage's `@connections`, one line per method. */
const manage = (...methods: string[]): string[] =>
  methods.map(
    (method) =>
      `execute-api:ManageConnections arn:\${Partition}:execute-api:\${Region}:\${AccountId}:WebSocketApi/live/${method}/@connections/*`,
  );

/** What every function has: X-Ray and its own log group. */
const base = (fn: string): string[] => [
  `logs:CreateLogStream ${fn}Logs.Arn`,
  `logs:PutLogEvents ${fn}Logs.Arn`,
  'xray:PutTelemetryRecords *',
  'xray:PutTraceSegments *',
];

const readSecret = [
  `secretsmanager:GetSecretValue ${SECRET_ARN}`,
  `secretsmanager:GetSecretValue ${SECRET_ARN}-??????`,
];

/** An SQS event source's actions on its queue, and sending (continuations, dead letters). */
const consume = (queue: string): string[] =>
  [
    'ChangeMessageVisibility',
    'DeleteMessage',
    'GetQueueAttributes',
    'GetQueueUrl',
    'ReceiveMessage',
  ].map((action) => `sqs:${action} HeraldData:${queue}`);
const send = (queue: string): string[] =>
  ['GetQueueAttributes', 'GetQueueUrl', 'SendMessage'].map(
    (action) => `sqs:${action} HeraldData:${queue}`,
  );

const SES_IF_SENDER = ' if {"StringEquals":{"ses:FromAddress":"noreply@example.com"}}';
const sendMail = ['SendEmail', 'SendRawEmail'].flatMap((action) =>
  ['configuration-set/*', 'identity/*'].map(
    (resource) =>
      `ses:${action} arn:\${Partition}:ses:\${Region}:\${AccountId}:${resource}${SES_IF_SENDER}`,
  ),
);

/** Function (logical id without its hash) → every `<action> <resource>` its role allows. */
const EXPECTED: Record<string, string[]> = {
  WebSocketAuthorizer: [...readSecret, ...base('WebSocketAuthorizer')],
  WebSocketConnect: [
    ...dynamo(CONNECTIONS, 'BatchWriteItem', 'GetItem', 'Query'),
    ...dynamo(NOTIFICATIONS, 'UpdateItem'),
    ...manage('POST', 'DELETE'),
    ...base('WebSocketConnect'),
  ],
  WebSocketDisconnect: [
    ...dynamo(CONNECTIONS, 'BatchWriteItem', 'GetItem', 'Query'),
    ...manage('POST', 'DELETE'),
    ...base('WebSocketDisconnect'),
  ],
  WebSocketMessage: [
    // Subscriptions and the frame budget (UpdateItem); `refresh` moves the connection's expiry
    // listing (PutItem, DeleteItem) and verifies the new token with the secret.
    ...dynamo(
      CONNECTIONS,
      'BatchWriteItem',
      'DeleteItem',
      'GetItem',
      'PutItem',
      'Query',
      'UpdateItem',
    ),
    ...dynamo(NOTIFICATIONS, 'GetItem', 'Query', 'UpdateItem'),
    ...dynamo(UNREAD_INDEX, 'Query'),
    ...dynamo(UNSEEN_INDEX, 'Query'),
    ...manage('POST', 'DELETE'),
    ...readSecret,
    ...base('WebSocketMessage'),
  ],
  FanOutFunction: [
    ...dynamo(CONNECTIONS, 'BatchWriteItem', 'GetItem', 'Query'),
    ...dynamo(NOTIFICATIONS, 'BatchGetItem', 'GetItem', 'PutItem', 'UpdateItem'),
    ...manage('POST', 'DELETE'),
    ...consume('FanOutQueue'),
    ...send('FanOutQueue'),
    ...send('FanOutDeadLetterQueue'),
    ...base('FanOutFunction'),
  ],
  EmailFunction: [
    ...dynamo(CONNECTIONS, 'Query'),
    ...dynamo(NOTIFICATIONS, 'DeleteItem', 'GetItem', 'PutItem', 'UpdateItem'),
    ...sendMail,
    ...consume('EmailQueue'),
    ...send('EmailQueue'),
    ...send('EmailDeadLetterQueue'),
    ...base('EmailFunction'),
  ],
  HttpFunction: [
    ...dynamo(CONNECTIONS, 'BatchWriteItem', 'GetItem', 'Query'),
    ...dynamo(NOTIFICATIONS, 'BatchGetItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'),
    ...dynamo(UNREAD_INDEX, 'Query'),
    ...dynamo(UNSEEN_INDEX, 'Query'),
    ...dynamo(VISIBLE_INDEX, 'Query'),
    ...manage('POST', 'DELETE'),
    ...readSecret,
    ...base('HttpFunction'),
  ],
  InboxExpiryFunction: [
    ...dynamo(CONNECTIONS, 'BatchWriteItem', 'GetItem', 'Query'),
    ...dynamo(UNREAD_INDEX, 'Query'),
    ...dynamo(UNSEEN_INDEX, 'Query'),
    // The stream event source: ListStreams has no resource narrower than *.
    ...dynamo(`${NOTIFICATIONS}.StreamArn`, 'DescribeStream', 'GetRecords', 'GetShardIterator'),
    'dynamodb:ListStreams *',
    ...manage('POST', 'DELETE'),
    ...send('ExpiryFailures'),
    ...base('InboxExpiryFunction'),
  ],
  // Verifies HTTP API tokens before the inbox function runs (HS256 mode): the secret only.
  HttpAuthorizer: [...readSecret, ...base('HttpAuthorizer')],
  // Close expired sockets (sweep) or all of one user's (cut-off): they never post.
  ConnectionLifetimeSweep: [
    ...dynamo(CONNECTIONS, 'BatchWriteItem', 'GetItem', 'Query'),
    ...manage('DELETE'),
    ...base('ConnectionLifetimeSweep'),
  ],
  ConnectionLifetimeCutOff: [
    ...dynamo(CONNECTIONS, 'BatchWriteItem', 'GetItem', 'Query'),
    ...manage('DELETE'),
    ...base('ConnectionLifetimeCutOff'),
  ],
  // One PutItem per suppressed address.
  SesFunction: [...dynamo(NOTIFICATIONS, 'PutItem'), ...base('SesFunction')],
  // Not a function's: EventBridge's rules publish envelopes to the (encrypted) topic.
  'role EventBridgeIngressPublishRole': [
    'kms:Decrypt HeraldData:TopicKey',
    'kms:GenerateDataKey* HeraldData:TopicKey',
    'sns:Publish HeraldData:Topic.',
  ],
  // Not a function's: API Gateway's account-wide logging role (context apiGatewayCloudWatchRole).
  'role WebSocketLoggingRole': [
    `managed-policy arn:\${Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs`,
  ],
};

let grants: Record<string, string[]>;

beforeAll(() => {
  const { data, code } = productionApp();
  grants = grantsByFunction(Template.fromStack(code), Template.fromStack(data));
}, 300_000);

describe('least privilege', () => {
  it('grants each function exactly the actions of its row, and every role has a row', () => {
    const expected = Object.fromEntries(
      Object.entries(EXPECTED).map(([name, lines]) => [name, [...new Set(lines)].sort()]),
    );
    expect(grants).toEqual(expected);
  });

  it('lets no function delete notifications but the email function (its mail log claim)', () => {
    const deleters = Object.entries(grants)
      .filter(([, lines]) => lines.includes(`dynamodb:DeleteItem ${NOTIFICATIONS}`))
      .map(([name]) => name);
    expect(deleters).toEqual(['EmailFunction']);
    expect(grants.WebSocketConnect).not.toContain(`dynamodb:BatchWriteItem ${NOTIFICATIONS}`);
  });

  it('gives the email function no Query or batch write on notifications', () => {
    const onNotifications = grants.EmailFunction?.filter((line) => line.endsWith(NOTIFICATIONS));
    expect(onNotifications).toEqual(
      dynamo(NOTIFICATIONS, 'DeleteItem', 'GetItem', 'PutItem', 'UpdateItem'),
    );
  });

  it('lets only the functions that push or end connections close sockets, and no other method', () => {
    const all = Object.values(grants).flat();
    const methods = all
      .filter((line) => line.startsWith('execute-api:'))
      .map((line) => /\/live\/([^/]+)\/@connections\/\*$/.exec(line)?.[1]);
    expect(new Set(methods)).toEqual(new Set(['POST', 'DELETE']));
    const closers = Object.keys(grants).filter((name) =>
      grants[name]?.some((line) => line.includes('/DELETE/@connections/')),
    );
    // A push closes a socket whose token expired; the sweep and cut-off only close.
    expect(closers.sort()).toEqual(
      [
        'WebSocketConnect',
        'WebSocketDisconnect',
        'WebSocketMessage',
        'FanOutFunction',
        'HttpFunction',
        'InboxExpiryFunction',
        'ConnectionLifetimeSweep',
        'ConnectionLifetimeCutOff',
      ].sort(),
    );
  });

  it('allows no wildcard action and no Scan anywhere', () => {
    const actions = Object.values(grants)
      .flat()
      .map((line) => line.split(' ')[0] ?? '');
    // `kms:GenerateDataKey*` is the action's own name (GenerateDataKey and its variants), as
    // AWS documents SNS's use of a key; no other action may hold a wildcard.
    const wild = actions.filter((action) => action.includes('*') || action === 'dynamodb:Scan');
    expect(wild.filter((action) => action !== 'kms:GenerateDataKey*')).toEqual([]);
  });
});

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** `ConnectionsD1A0F9B6` → `Connections`: the construct path without CDK's hash. */
const withoutHash = (logicalId: string): string => logicalId.replace(/[0-9A-F]{8}$/, '');

/**
 * Every Allow of every function's role as `<action> <resource>` lines, keyed by the function's
 * logical id without its hash. Resources from the data stack are named by their logical id
 * there (`HeraldData:Notifications.StreamArn`), the stage's API by its own.
 */
function grantsByFunction(code: Template, data: Template): Record<string, string[]> {
  const resources = code.toJSON().Resources as Resources;
  const dataIds = Object.keys(data.toJSON().Resources as Resources).sort(
    (a, b) => b.length - a.length,
  );
  const label = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const node = value as Record<string, unknown>;
    if ('Fn::Join' in node) {
      const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
      return parts.map(label).join(separator);
    }
    if ('Ref' in node) {
      const ref = String(node.Ref);
      return ref.startsWith('AWS::') ? `\${${ref.slice(5)}}` : withoutHash(ref);
    }
    if ('Fn::GetAtt' in node) {
      const [id, attribute] = node['Fn::GetAtt'] as [string, string];
      return `${withoutHash(id)}.${attribute}`;
    }
    if ('Fn::ImportValue' in node) {
      const name = String(node['Fn::ImportValue']);
      const id = dataIds.find((candidate) => name.includes(candidate));
      if (!id) return name;
      const attribute = withoutHash(name.slice(name.indexOf(id) + id.length));
      return `HeraldData:${withoutHash(id)}${attribute === 'Arn' ? '' : `.${attribute}`}`;
    }
    return JSON.stringify(value);
  };

  const functionOfRole = new Map<string, string>();
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const role = resource.Properties?.Role as { 'Fn::GetAtt': [string, string] };
    functionOfRole.set(role['Fn::GetAtt'][0], withoutHash(id));
  }

  const grants: Record<string, string[]> = {};
  for (const name of functionOfRole.values()) grants[name] = [];
  // A role no function uses still gets a row (`role <id>`), so it cannot go unreviewed.
  const linesOf = (roleId: string): string[] => {
    const name = functionOfRole.get(roleId) ?? `role ${withoutHash(roleId)}`;
    grants[name] = grants[name] ?? [];
    return grants[name];
  };
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const managed = (resource.Properties?.ManagedPolicyArns ?? []) as unknown[];
    linesOf(id).push(...managed.map((arn) => `managed-policy ${label(arn)}`));
  }
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const props = resource.Properties as {
      Roles: { Ref: string }[];
      PolicyDocument: { Statement: Statement[] };
    };
    for (const { Ref: roleId } of props.Roles) {
      const lines = linesOf(roleId);
      for (const statement of props.PolicyDocument.Statement) {
        const condition = statement.Condition ? ` if ${JSON.stringify(statement.Condition)}` : '';
        for (const action of [statement.Action].flat()) {
          for (const target of [statement.Resource].flat()) {
            const effect = statement.Effect === 'Allow' ? '' : `${statement.Effect} `;
            lines.push(`${effect}${action} ${label(target)}${condition}`);
          }
        }
      }
    }
  }
  return Object.fromEntries(
    Object.entries(grants).map(([name, lines]) => [name, [...new Set(lines)].sort()]),
  );
}
