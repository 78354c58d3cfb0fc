import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#config/env-names';
import { TOPOLOGY } from '#config/topology';
import { TTL_REMOVAL_FILTER, TTL_STREAM } from '#config/ttl-removal';
import { readSettings } from '#infra/constructs/herald-settings';
import { StatefulStack } from '#infra/stateful-stack';
import { StatelessStack } from '#infra/stateless-stack';

/** The feature flags `cdk synth` uses, so the test sees the template the CLI makes. */
const CDK_CONTEXT = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'))
  .context as Record<string, unknown>;

const JWKS_URL = 'https://example.com/.well-known/jwks.json';
const EMAIL_FROM = 'Herald <noreply@example.com>';

interface Herald {
  app: App;
  data: StatefulStack;
  code: StatelessStack;
  template: Template;
  dataTemplate: Template;
}

/** Builds both stacks as `infra/app.ts` does. Bundling (seconds) only where a test needs it. */
function synthHerald(context: Record<string, unknown>, bundle = false): Herald {
  const app = new App({
    context: {
      ...CDK_CONTEXT,
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...context,
    },
  });
  const settings = readSettings(app.node);
  const data = new StatefulStack(app, 'HeraldData');
  const code = new StatelessStack(app, 'HeraldApp', { data, settings });
  return {
    app,
    data,
    code,
    template: Template.fromStack(code),
    dataTemplate: Template.fromStack(data),
  };
}

const logicalId = (construct: { node: { defaultChild?: unknown } }): string => {
  const child = construct.node.defaultChild as CfnResource;
  return Stack.of(child).getLogicalId(child);
};
const roleId = (fn: IFunction): string => {
  if (!fn.role) throw new Error('function without role');
  return logicalId(fn.role);
};

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of the identity policies attached to a function's role. */
function statementsOf(template: Template, fn: IFunction): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId(fn) }]) },
  });
  return Object.values(policies).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
  );
}

/** The DynamoDB actions a function may call on one table (found by its export's logical id). */
function tableActions(h: Herald, fn: IFunction, table: 'connections' | 'notifications'): string[] {
  const tableId = logicalId(h.data[table]);
  return statementsOf(h.template, fn)
    .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).includes(tableId))
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
    .filter((action) => action.startsWith('dynamodb:'))
    .sort();
}

/** Every Allow statement anywhere in a template: identity, trust and resource policies. */
function allowedActions(template: Template): string[] {
  const actions: string[] = [];
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    const record = node as Record<string, unknown>;
    if (Array.isArray(record.Statement)) {
      for (const statement of record.Statement as Statement[]) {
        if (statement.Effect !== 'Allow') continue;
        actions.push(...[statement.Action].flat());
      }
    }
    for (const value of Object.values(record)) walk(value);
  };
  walk(template.toJSON());
  return actions;
}

let h: Herald;
let apiId: string;
let stageId: string;

beforeAll(() => {
  // The one bundled synth: proves each handler entry bundles with the shared settings.
  h = synthHerald({ jwksUrl: JWKS_URL, jwtAudience: 'herald', emailFrom: EMAIL_FROM }, true);
  apiId = logicalId(h.code.gateway.api);
  stageId = logicalId(h.code.gateway.stage);
}, 300_000);

describe('functions', () => {
  it('all run Node 24 on ARM with X-Ray, their own log group and Powertools settings', () => {
    h.template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: Match.stringLikeRegexp('^herald-'),
          POWERTOOLS_METRICS_NAMESPACE: 'Herald',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
    h.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('bundles each handler as ESM with a require shim and a source map, the SDK inside', () => {
    const assembly = h.app.synth();
    const bundleOf = (fn: IFunction): { code: string; hasMap: boolean } => {
      // The zip's key is the asset hash; the staged directory is named after it.
      const key: string = h.template.toJSON().Resources[logicalId(fn)].Properties.Code.S3Key;
      const dir = join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
      return {
        code: readFileSync(join(dir, 'index.mjs'), 'utf8'),
        hasMap: existsSync(join(dir, 'index.mjs.map')),
      };
    };
    const { gateway, fanOut, email, http } = h.code;
    for (const fn of [
      gateway.authorizerFunction,
      gateway.connectFunction,
      gateway.disconnectFunction,
      gateway.messageFunction,
      fanOut.function,
      email.function,
      http.function,
    ]) {
      const { code, hasMap } = bundleOf(fn);
      expect(code.startsWith("import { createRequire } from 'module';")).toBe(true);
      expect(hasMap).toBe(true);
    }
    // The SDK is bundled, not imported from the runtime's copy, and the bundle stays under 1 MB.
    const fanOutCode = bundleOf(fanOut.function).code;
    expect(fanOutCode).not.toMatch(/from\s*"@aws-sdk\//);
    expect(fanOutCode).toContain('DynamoDB');
    expect(Buffer.byteLength(fanOutCode)).toBeLessThan(1024 * 1024);
  });

  it('gives the queue consumers the topology timeout', () => {
    for (const fn of [h.code.fanOut.function, h.code.email.function]) {
      expect(
        h.template.findResources('AWS::Lambda::Function', {
          Properties: { Timeout: TOPOLOGY.consumerTimeoutSeconds },
        }),
      ).toHaveProperty(logicalId(fn));
    }
  });
});

describe('WebSocket API', () => {
  it('is a WebSocket API routing on the body action', () => {
    h.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
  });

  it('guards $connect with a REQUEST authorizer reading the token from the query string', () => {
    const authorizers = h.template.findResources('AWS::ApiGatewayV2::Authorizer', {
      Properties: {
        ApiId: { Ref: apiId },
        AuthorizerType: 'REQUEST',
        IdentitySource: ['route.request.querystring.token'],
        AuthorizerUri: {
          'Fn::Join': [
            '',
            Match.arrayWith([
              { 'Fn::GetAtt': [logicalId(h.code.gateway.authorizerFunction), 'Arn'] },
            ]),
          ],
        },
      },
    });
    const [authorizerId] = Object.keys(authorizers);
    expect(authorizerId).toBeDefined();
    h.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: apiId },
      RouteKey: '$connect',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
    });
  });

  it.each([
    ['$connect', 'connectFunction'],
    ['$disconnect', 'disconnectFunction'],
    ['$default', 'messageFunction'],
  ] as const)('routes %s to its function', (routeKey, fn) => {
    const integrations = h.template.findResources('AWS::ApiGatewayV2::Integration', {
      Properties: {
        ApiId: { Ref: apiId },
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: {
          'Fn::Join': [
            '',
            Match.arrayWith([{ 'Fn::GetAtt': [logicalId(h.code.gateway[fn]), 'Arn'] }]),
          ],
        },
      },
    });
    const [integrationId] = Object.keys(integrations);
    expect(integrationId).toBeDefined();
    h.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: apiId },
      RouteKey: routeKey,
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
    });
  });

  it('lets $disconnect and $default through without the authorizer (the connection is already authorized)', () => {
    for (const routeKey of ['$disconnect', '$default']) {
      h.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: 'NONE',
      });
    }
  });

  it('answers $default through a route response', () => {
    const routes = h.template.findResources('AWS::ApiGatewayV2::Route', {
      Properties: { RouteKey: '$default', RouteResponseSelectionExpression: '$default' },
    });
    const [routeId] = Object.keys(routes);
    expect(routeId).toBeDefined();
    h.template.hasResourceProperties('AWS::ApiGatewayV2::RouteResponse', {
      ApiId: { Ref: apiId },
      RouteId: { Ref: routeId },
      RouteResponseKey: '$default',
    });
  });

  it('deploys the "live" stage automatically, with default-route throttling', () => {
    h.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiId },
      StageName: 'live',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
  });

  it('gives $connect a throttle of its own, below the stage’s, so a connect flood spares frames', () => {
    h.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiId },
      RouteSettings: { $connect: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 } },
    });
  });

  it('writes JSON access logs with the useful fields and never the query string or token', () => {
    const stage = h.template.toJSON().Resources[stageId];
    h.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AccessLogs'), 'Arn'] },
        Format: Match.anyValue(),
      },
    });
    const format: string = stage.Properties.AccessLogSettings.Format;
    expect(JSON.parse(format)).toMatchObject({
      requestId: '$context.requestId',
      connectionId: '$context.connectionId',
      routeKey: '$context.routeKey',
      eventType: '$context.eventType',
      status: '$context.status',
      ip: '$context.identity.sourceIp',
      integrationLatency: '$context.integrationLatency',
      errorMessage: '$context.error.message',
    });
    expect(format).not.toMatch(/querystring|token|\$request|\$input/i);
  });
});

// Which actions each function may call on each table: test/infra/least-privilege.test.ts.
describe('table grants (env var set with the grant)', () => {
  it.each([
    ['connect', 'connectFunction', true, true],
    ['disconnect', 'disconnectFunction', true, false],
    ['message', 'messageFunction', true, true],
    ['authorizer', 'authorizerFunction', false, false],
  ] as const)('%s', (_name, fn, connections, notifications) => {
    const f = h.code.gateway[fn];
    expect(tableActions(h, f, 'connections').length > 0).toBe(connections);
    expect(tableActions(h, f, 'notifications').length > 0).toBe(notifications);
    const vars = Match.objectLike({
      ...(connections ? { [ENV.connectionsTable]: Match.anyValue() } : {}),
      ...(notifications ? { [ENV.notificationsTable]: Match.anyValue() } : {}),
    });
    expect(
      h.template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: vars } },
      }),
    ).toHaveProperty(logicalId(f));
  });

  it('names each table through its ENV variable', () => {
    h.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.connectionsTable]: {
            'Fn::ImportValue': Match.stringLikeRegexp(logicalId(h.data.connections)),
          },
          [ENV.notificationsTable]: {
            'Fn::ImportValue': Match.stringLikeRegexp(logicalId(h.data.notifications)),
          },
        }),
      },
    });
  });
});

describe('fan-out', () => {
  it('may post to connections of this API and stage only, and close them', () => {
    const resources = JSON.stringify(
      statementsOf(h.template, h.code.fanOut.function)
        .filter((s) => [s.Action].flat().includes('execute-api:ManageConnections'))
        .map((s) => s.Resource),
    );
    expect(resources).toContain(JSON.stringify({ Ref: apiId }));
    expect(resources).toContain('"/live/POST/@connections/*"');
    // A push closes a socket whose token it finds expired.
    expect(resources).toContain('"/live/DELETE/@connections/*"');
    const manage = (fn: IFunction) =>
      statementsOf(h.template, fn).filter((s) =>
        [s.Action].flat().some((a) => a.startsWith('execute-api')),
      );
    for (const fn of [h.code.gateway.authorizerFunction, h.code.email.function]) {
      expect(manage(fn)).toEqual([]);
    }
  });

  it("is told the stage's callback URL, its own queue and its DLQ", () => {
    h.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.callbackUrl]: {
            'Fn::Join': [
              '',
              [
                'https://',
                { Ref: apiId },
                '.execute-api.',
                { Ref: 'AWS::Region' },
                '.',
                { Ref: 'AWS::URLSuffix' },
                '/live',
              ],
            ],
          },
          [ENV.fanOutQueueUrl]: {
            'Fn::ImportValue': Match.stringLikeRegexp(logicalId(h.data.fanOut.queue)),
          },
          [ENV.fanOutDeadLetterQueueUrl]: {
            'Fn::ImportValue': Match.stringLikeRegexp(logicalId(h.data.fanOut.deadLetterQueue)),
          },
        }),
      },
    });
  });

  it('may send to its queue (continuation pages) and its DLQ', () => {
    const sends = statementsOf(h.template, h.code.fanOut.function).filter((s) =>
      [s.Action].flat().includes('sqs:SendMessage'),
    );
    const resources = JSON.stringify(sends.map((s) => s.Resource));
    expect(resources).toContain(logicalId(h.data.fanOut.queue));
    expect(resources).toContain(logicalId(h.data.fanOut.deadLetterQueue));
    expect(resources).not.toContain(logicalId(h.data.email.queue));
  });
});

describe('inbox expiry', () => {
  const fn = () => h.code.inboxExpiry.function;

  it('reads the notifications stream, filtered by Lambda to TTL removals, with bounded retries', () => {
    h.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(fn()) },
      EventSourceArn: {
        'Fn::ImportValue': Match.stringLikeRegexp(`${logicalId(h.data.notifications)}StreamArn`),
      },
      StartingPosition: 'LATEST',
      BatchSize: TTL_STREAM.batchSize,
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(TTL_REMOVAL_FILTER) }] },
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: TTL_STREAM.retryAttempts,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: {
          Destination: {
            'Fn::ImportValue': Match.stringLikeRegexp(logicalId(h.data.expiryFailures)),
          },
        },
      },
    });
    expect(JSON.parse(JSON.stringify(TTL_REMOVAL_FILTER))).toEqual({
      eventName: ['REMOVE'],
      userIdentity: { type: ['Service'], principalId: ['dynamodb.amazonaws.com'] },
    });
  });

  it('is told both tables and the callback URL', () => {
    expect(
      h.template.findResources('AWS::Lambda::Function', {
        Properties: {
          Environment: {
            Variables: Match.objectLike({
              [ENV.notificationsTable]: Match.anyValue(),
              [ENV.connectionsTable]: Match.anyValue(),
              [ENV.callbackUrl]: {
                'Fn::Join': ['', Match.arrayWith([{ Ref: apiId }, '/live'])],
              },
            }),
          },
        },
      }),
    ).toHaveProperty(logicalId(fn()));
  });

  it('only reads notifications; lists and prunes connections; posts to this stage only', () => {
    // Query on the index, GetItem of the state hash (the `state` frame); the stream's reads,
    // which the event source grants.
    expect(tableActions(h, fn(), 'notifications')).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetItem',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:Query',
    ]);
    expect(tableActions(h, fn(), 'connections')).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
    const manage = statementsOf(h.template, fn()).filter((s) =>
      [s.Action].flat().some((a) => a.startsWith('execute-api')),
    );
    expect(manage.map(({ Effect, Action }) => ({ Effect, Action }))).toEqual([
      { Effect: 'Allow', Action: 'execute-api:ManageConnections' },
    ]);
    const resource = JSON.stringify(manage[0]?.Resource);
    expect(resource).toContain(JSON.stringify({ Ref: apiId }));
    expect(resource).toContain('"/live/POST/@connections/*"');
  });

  it('reads the stream and sends only to its failure queue', () => {
    const statements = statementsOf(h.template, fn());
    const streamReads = statements.filter((s) => [s.Action].flat().includes('dynamodb:GetRecords'));
    expect(JSON.stringify(streamReads.map((s) => s.Resource))).toContain(
      `${logicalId(h.data.notifications)}StreamArn`,
    );
    const sends = statements.filter((s) => [s.Action].flat().includes('sqs:SendMessage'));
    expect(sends.map((s) => JSON.stringify(s.Resource))).toEqual([
      expect.stringContaining(logicalId(h.data.expiryFailures)),
    ]);
  });
});

describe('WebSocket route functions', () => {
  const callbackUrl = () => ({
    'Fn::Join': [
      '',
      [
        'https://',
        { Ref: apiId },
        '.execute-api.',
        { Ref: 'AWS::Region' },
        '.',
        { Ref: 'AWS::URLSuffix' },
        '/live',
      ],
    ],
  });

  it.each(['connectFunction', 'disconnectFunction', 'messageFunction'] as const)(
    '%s may post to connections of this API and stage only, told the callback URL',
    (fn) => {
      const f = h.code.gateway[fn];
      const manage = statementsOf(h.template, f).filter((s) =>
        [s.Action].flat().includes('execute-api:ManageConnections'),
      );
      const resources = JSON.stringify(manage.map((s) => s.Resource));
      expect(resources).toContain(JSON.stringify({ Ref: apiId }));
      expect(resources).toContain('"/live/POST/@connections/*"');
      // Each may close sockets: one whose token a push finds expired (all), a user's oldest
      // past the cap (connect), one flooding frames (message).
      expect(resources).toContain('"/live/DELETE/@connections/*"');
      expect(resources).not.toContain('/GET/@connections');
      expect(
        h.template.findResources('AWS::Lambda::Function', {
          Properties: {
            Environment: { Variables: Match.objectLike({ [ENV.callbackUrl]: callbackUrl() }) },
          },
        }),
      ).toHaveProperty(logicalId(f));
    },
  );
});

describe('email', () => {
  it('may send mail only from the configured sender', () => {
    h.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId(h.code.email.function) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: ['ses:SendEmail', 'ses:SendRawEmail'],
            Condition: { StringEquals: { 'ses:FromAddress': 'noreply@example.com' } },
          }),
        ]),
      },
    });
    h.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.emailFrom]: EMAIL_FROM }) },
    });
  });

  it('dead-letters to the email DLQ', () => {
    h.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.emailFrom]: EMAIL_FROM,
          [ENV.emailDeadLetterQueueUrl]: {
            'Fn::ImportValue': Match.stringLikeRegexp(logicalId(h.data.email.deadLetterQueue)),
          },
        }),
      },
    });
    const sends = statementsOf(h.template, h.code.email.function).filter((s) =>
      [s.Action].flat().includes('sqs:SendMessage'),
    );
    expect(JSON.stringify(sends)).toContain(logicalId(h.data.email.deadLetterQueue));
  });

  it('may send to its own queue (the tasks of a big audience), told its URL', () => {
    h.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.emailFrom]: EMAIL_FROM,
          [ENV.emailQueueUrl]: {
            'Fn::ImportValue': Match.stringLikeRegexp(logicalId(h.data.email.queue)),
          },
        }),
      },
    });
    const sends = statementsOf(h.template, h.code.email.function).filter((s) =>
      [s.Action].flat().includes('sqs:SendMessage'),
    );
    const resources = JSON.stringify(sends.map((s) => s.Resource));
    expect(resources).toContain(logicalId(h.data.email.queue));
    expect(resources).not.toContain(logicalId(h.data.fanOut.queue));
  });
});

describe('queue consumers', () => {
  it.each(['fanOut', 'email'] as const)(
    '%s reads its queue in batches and reports partial failures',
    (name) => {
      const topology = TOPOLOGY.queues[name];
      h.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(h.code[name].function) },
        EventSourceArn: {
          'Fn::ImportValue': Match.stringLikeRegexp(logicalId(h.data[name].queue)),
        },
        BatchSize: topology.batchSize,
        MaximumBatchingWindowInSeconds: topology.maxBatchingWindowSeconds,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    },
  );
});

describe('authorizer', () => {
  it('verifies with the JWKS URL from context', () => {
    expect(
      h.template.findResources('AWS::Lambda::Function', {
        Properties: {
          Environment: {
            Variables: Match.objectLike({
              [ENV.jwksUrl]: JWKS_URL,
              [ENV.jwtSecretArn]: Match.absent(),
            }),
          },
        },
      }),
    ).toHaveProperty(logicalId(h.code.gateway.authorizerFunction));
    expect(
      Annotations.fromStack(h.code).findWarning('*', Match.stringLikeRegexp('refuse every token')),
    ).toEqual([]);
  });

  it('reads an HS256 secret from Secrets Manager when given its ARN, with issuer and audience', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:herald/jwt';
    const variant = synthHerald({
      jwtSecretArn: arn,
      jwtIssuer: 'https://id.example',
      jwtAudience: 'herald',
    });
    const fn = variant.code.gateway.authorizerFunction;
    variant.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId(fn) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 'secretsmanager:GetSecretValue',
            Resource: [arn, `${arn}-??????`],
          },
        ]),
      },
    });
    expect(
      variant.template.findResources('AWS::Lambda::Function', {
        Properties: {
          Environment: {
            Variables: Match.objectLike({
              [ENV.jwtSecretArn]: arn,
              [ENV.jwtIssuer]: 'https://id.example',
              [ENV.jwtAudience]: 'herald',
              [ENV.jwksUrl]: Match.absent(),
            }),
          },
        },
      }),
    ).toHaveProperty(logicalId(fn));
  });

  it('gives the HTTP API function the very verification settings of the WebSocket authorizer', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:herald/jwt';
    const variant = synthHerald({
      jwtSecretArn: arn,
      jwtIssuer: 'https://id.example',
      jwtAudience: 'herald',
    });
    const jwtNames: string[] = [
      ENV.jwtSecret,
      ENV.jwtSecretArn,
      ENV.jwksUrl,
      ENV.jwtIssuer,
      ENV.jwtAudience,
    ];
    const jwtSettingsOf = (fn: IFunction) => {
      const variables: Record<string, unknown> =
        variant.template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables;
      return Object.fromEntries(
        Object.entries(variables).filter(([name]) => jwtNames.includes(name)),
      );
    };
    const websocket = jwtSettingsOf(variant.code.gateway.authorizerFunction);
    expect(websocket).toEqual({
      [ENV.jwtSecretArn]: arn,
      [ENV.jwtIssuer]: 'https://id.example',
      [ENV.jwtAudience]: 'herald',
    });
    expect(jwtSettingsOf(variant.code.http.function)).toEqual(websocket);
  });

  it('still synthesizes with no JWT or sender configured, with warnings saying so', () => {
    const bare = synthHerald({});
    const annotations = Annotations.fromStack(bare.code);
    for (const fn of [bare.code.gateway.authorizerFunction, bare.code.http.function]) {
      annotations.hasWarning(`/${fn.node.path}`, Match.stringLikeRegexp('refuse every token'));
    }
    annotations.hasWarning(
      `/${bare.code.email.function.node.path}`,
      Match.stringLikeRegexp('emailFrom'),
    );
    const ses = statementsOf(bare.template, bare.code.email.function).filter((s) =>
      [s.Action].flat().some((a) => a.startsWith('ses:')),
    );
    expect(ses).toEqual([]);
  });
});

describe('context', () => {
  it('sets stage name and throttling, and the grants and URLs follow the stage', () => {
    const beta = synthHerald({
      stageName: 'beta',
      throttleRateLimit: '5',
      throttleBurstLimit: '10',
    });
    beta.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'beta',
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
    });
    const connect = synthHerald({ connectThrottleRateLimit: '2', connectThrottleBurstLimit: '3' });
    connect.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'live',
      RouteSettings: { $connect: { ThrottlingRateLimit: 2, ThrottlingBurstLimit: 3 } },
    });
    const betaGrants = JSON.stringify(beta.template.findResources('AWS::IAM::Policy'));
    expect(betaGrants).toContain('"/beta/POST/@connections/*"');
    expect(betaGrants).not.toContain('/live/POST/@connections');
    beta.template.hasOutput('WebSocketUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith(['wss://', '/beta'])] },
    });
  });

  it('leaves the account-wide API Gateway CloudWatch role alone when told to', () => {
    const without = synthHerald({ apiGatewayCloudWatchRole: 'false' });
    without.template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('sets the API Gateway CloudWatch role by default, before the stage needs it', () => {
    const withRole = synthHerald({});
    const accounts = withRole.template.findResources('AWS::ApiGateway::Account');
    const [accountId] = Object.keys(accounts);
    expect(accountId).toBeDefined();
    withRole.template.hasResource('AWS::ApiGatewayV2::Stage', {
      DependsOn: Match.arrayWith([accountId]),
    });
    withRole.template.hasResource('AWS::IAM::Role', {
      DeletionPolicy: 'Retain',
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' } })],
        },
      },
    });
  });
});

describe('outputs', () => {
  it('gives the wss URL and the management callback URL', () => {
    h.template.hasOutput('WebSocketUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith(['wss://', { Ref: apiId }, '/live'])] },
    });
    h.template.hasOutput('CallbackUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith(['https://', { Ref: apiId }, '/live'])] },
    });
    h.dataTemplate.hasOutput('TopicArn', { Value: { Ref: logicalId(h.data.topic) } });
  });
});

describe('IAM across both stacks', () => {
  it('never allows Scan, dynamodb:* or *', () => {
    const forbidden = (action: string) =>
      action === '*' || action === 'dynamodb:*' || action === 'dynamodb:Scan';
    const variant = synthHerald({
      jwtSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:herald/jwt',
      apiGatewayCloudWatchRole: 'true',
      emailFrom: EMAIL_FROM,
    });
    for (const template of [h.template, h.dataTemplate, variant.template, variant.dataTemplate]) {
      const actions = allowedActions(template);
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter(forbidden)).toEqual([]);
    }
    // The walk sees what it must: the grants themselves are in the list it checked.
    expect(allowedActions(h.template)).toContain('dynamodb:Query');
  });
});
