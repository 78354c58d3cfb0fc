import { readFileSync } from 'node:fs';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#config/env-names';
import { TOPOLOGY } from '#config/topology';
import { readSettings } from '#infra/constructs/herald-settings';
import { StatefulStack } from '#infra/stateful-stack';
import { StatelessStack } from '#infra/stateless-stack';

const CDK_CONTEXT = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'))
  .context as Record<string, unknown>;
const JWKS_URL = 'https://example.com/.well-known/jwks.json';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:herald-jwt';

interface Herald {
  data: StatefulStack;
  code: StatelessStack;
  template: Template;
}

/** Both stacks as `infra/app.ts` builds them, without bundling (the stack test bundles). */
function synth(context: Record<string, unknown> = {}): Herald {
  const app = new App({
    context: {
      ...CDK_CONTEXT,
      'aws:cdk:bundling-stacks': [],
      jwksUrl: JWKS_URL,
      jwtAudience: 'herald',
      ...context,
    },
  });
  const data = new StatefulStack(app, 'HeraldData');
  const code = new StatelessStack(app, 'HeraldApp', { data, settings: readSettings(app.node) });
  return { data, code, template: Template.fromStack(code) };
}

const logicalId = (construct: { node: { defaultChild?: unknown } }): string => {
  const child = construct.node.defaultChild as CfnResource;
  return Stack.of(child).getLogicalId(child);
};

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

function statementsOf(h: Herald, fn: IFunction): Statement[] {
  if (!fn.role) throw new Error('function without role');
  const policies = h.template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: logicalId(fn.role) }]) },
  });
  return Object.values(policies).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
  );
}

function actionsOn(h: Herald, fn: IFunction, resourceId: string, prefix: string): string[] {
  return statementsOf(h, fn)
    .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).includes(resourceId))
    .flatMap((s) => [s.Action].flat())
    .filter((action) => action.startsWith(prefix))
    .sort();
}

function authorizersOn(herald: Herald, apiId: string) {
  return herald.template.findResources('AWS::ApiGatewayV2::Authorizer', {
    Properties: { ApiId: { Ref: apiId } },
  });
}

let h: Herald;
let httpApiId: string;

beforeAll(() => {
  h = synth();
  httpApiId = logicalId(h.code.http.api);
});

describe('HTTP API', () => {
  it('is an HTTP API', () => {
    h.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      Name: Match.anyValue(),
    });
    expect(h.template.toJSON().Resources[httpApiId].Properties.ProtocolType).toBe('HTTP');
  });

  it('routes exactly the topology’s routes to the inbox function, each behind the authorizer', () => {
    const integrations = h.template.findResources('AWS::ApiGatewayV2::Integration', {
      Properties: {
        ApiId: { Ref: httpApiId },
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [logicalId(h.code.http.function), 'Arn'] },
      },
    });
    const [integrationId] = Object.keys(integrations);
    expect(Object.keys(integrations)).toHaveLength(1);

    const routes = Object.values(
      h.template.findResources('AWS::ApiGatewayV2::Route', {
        Properties: { ApiId: { Ref: httpApiId } },
      }),
    ).map((route) => route.Properties);
    expect(routes.map((route) => route.RouteKey).sort()).toEqual([...TOPOLOGY.httpRoutes].sort());
    const [authorizerId] = Object.keys(authorizersOn(h, httpApiId));
    for (const route of routes) {
      // A request without a valid token is refused before the inbox function runs.
      expect(route).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
      });
    }
  });

  it('refuses junk tokens in a cached Lambda REQUEST authorizer reading the Authorization header', () => {
    const onHttp = Object.values(authorizersOn(h, httpApiId));
    expect(onHttp.map((authorizer) => authorizer.Properties)).toEqual([
      expect.objectContaining({
        AuthorizerType: 'REQUEST',
        IdentitySource: ['$request.header.Authorization'],
        AuthorizerPayloadFormatVersion: '2.0',
        EnableSimpleResponses: true,
        AuthorizerResultTtlInSeconds: 300,
      }),
    ]);
    const authorizerFn = h.code.http.authorizerFunction;
    if (authorizerFn === undefined) throw new Error('expected the http-authorizer function');
    expect(JSON.stringify(onHttp[0]?.Properties.AuthorizerUri)).toContain(logicalId(authorizerFn));
    const variables =
      h.template.toJSON().Resources[logicalId(authorizerFn)].Properties.Environment.Variables;
    // The very verification settings of the inbox function.
    expect(variables).toMatchObject({ [ENV.jwksUrl]: JWKS_URL, [ENV.jwtAudience]: 'herald' });
    // It touches no table.
    expect(
      statementsOf(h, authorizerFn).filter((st) => JSON.stringify(st).includes('dynamodb')),
    ).toEqual([]);
  });

  it('uses API Gateway’s JWT authorizer (no Lambda at all) in JWKS mode with an issuer', () => {
    const withIssuer = synth({ jwtIssuer: 'https://id.example', jwtAudience: 'herald,herald-b' });
    const apiId = logicalId(withIssuer.code.http.api);
    expect(Object.values(authorizersOn(withIssuer, apiId)).map((a) => a.Properties)).toEqual([
      expect.objectContaining({
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: { Issuer: 'https://id.example', Audience: ['herald', 'herald-b'] },
      }),
    ]);
    expect(withIssuer.code.http.authorizerFunction).toBeUndefined();
  });

  it('uses the Lambda authorizer with the HS256 secret in secret mode', () => {
    const withSecret = synth({ jwksUrl: undefined, jwtSecretArn: SECRET_ARN });
    const fn = withSecret.code.http.authorizerFunction;
    if (fn === undefined) throw new Error('expected the http-authorizer function');
    const variables =
      withSecret.template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables;
    expect(variables).toMatchObject({ [ENV.jwtSecretArn]: SECRET_ARN });
  });

  it('keeps the WebSocket API’s REQUEST authorizer', () => {
    const webSocket = Object.values(authorizersOn(h, logicalId(h.code.gateway.api)));
    expect(webSocket.map((authorizer) => authorizer.Properties)).toEqual([
      expect.objectContaining({
        AuthorizerType: 'REQUEST',
        IdentitySource: ['route.request.querystring.token'],
      }),
    ]);
  });

  it('lets API Gateway invoke the inbox function', () => {
    h.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [logicalId(h.code.http.function), 'Arn'] },
      Principal: 'apigateway.amazonaws.com',
      SourceArn: Match.anyValue(),
    });
  });

  it('deploys the $default stage automatically, throttled, with access logs free of headers', () => {
    const stages = h.template.findResources('AWS::ApiGatewayV2::Stage', {
      Properties: { ApiId: { Ref: httpApiId } },
    });
    const [stage] = Object.values(stages);
    expect(stage?.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
    const format: string = stage?.Properties.AccessLogSettings.Format;
    expect(JSON.parse(format)).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
    });
    expect(format).not.toMatch(/header|authorization|\$request|\$input|querystring/i);
  });

  it('outputs the API’s URL', () => {
    h.template.hasOutput('HttpApiUrl', { Value: Match.anyValue() });
  });

  it('allows no browser origin unless told', () => {
    expect(h.template.toJSON().Resources[httpApiId].Properties.CorsConfiguration).toBeUndefined();
  });

  it('allows the origins named in context corsOrigins, without credentials', () => {
    const named = synth({ corsOrigins: 'https://app.example.com, http://localhost:5173' });
    named.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: {
        AllowOrigins: ['https://app.example.com', 'http://localhost:5173'],
        AllowHeaders: ['authorization', 'content-type'],
        AllowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
        AllowCredentials: false,
        MaxAge: 3600,
      },
    });
  });

  it.each([
    ['a path', 'https://app.example.com/login'],
    ['no scheme', 'app.example.com'],
    ['"*" beside others', '*,https://app.example.com'],
  ])('refuses corsOrigins with %s at synth', (_, corsOrigins) => {
    expect(() => synth({ corsOrigins })).toThrow(/corsOrigins/);
  });
});

describe('the inbox function', () => {
  it('reads and changes notifications, lists and prunes connections, item by item, never Scan', () => {
    const fn = h.code.http.function;
    // The full per-function table is test/infra/least-privilege.test.ts.
    const dynamo = (...actions: string[]) => actions.map((action) => `dynamodb:${action}`);
    const on = (id: string) => [...new Set(actionsOn(h, fn, id, 'dynamodb:'))];
    expect(on(logicalId(h.data.notifications))).toEqual(
      dynamo('BatchGetItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'),
    );
    expect(on(logicalId(h.data.connections))).toEqual(dynamo('BatchWriteItem', 'GetItem', 'Query'));
    const all = statementsOf(h, fn).flatMap((s) => [s.Action].flat());
    expect(all.some((action) => /Scan|\*/.test(action))).toBe(false);
  });

  it('posts state frames through the WebSocket stage named by configuration', () => {
    const fn = h.code.http.function;
    const manage = statementsOf(h, fn).filter((s) =>
      [s.Action].flat().includes('execute-api:ManageConnections'),
    );
    expect(manage).toHaveLength(1);
    expect(JSON.stringify(manage[0]?.Resource)).toContain(logicalId(h.code.gateway.api));
    const variables = h.template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables;
    expect(variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'herald-http-api',
      [ENV.callbackUrl]: {
        'Fn::Join': ['', expect.arrayContaining([{ Ref: logicalId(h.code.gateway.api) }])],
      },
      [ENV.notificationsTable]: expect.anything(),
      [ENV.connectionsTable]: expect.anything(),
    });
    expect(JSON.stringify(variables[ENV.callbackUrl])).toContain(
      `/${h.code.gateway.stage.stageName}`,
    );
  });
});

describe('token verification in the inbox function', () => {
  it('verifies against the configured JWKS', () => {
    const variables =
      h.template.toJSON().Resources[logicalId(h.code.http.function)].Properties.Environment
        .Variables;
    expect(variables).toMatchObject({ [ENV.jwksUrl]: JWKS_URL });
    expect(variables[ENV.jwtSecretArn]).toBeUndefined();
    const reads = statementsOf(h, h.code.http.function).filter((s) =>
      [s.Action].flat().some((action) => action.startsWith('secretsmanager:')),
    );
    expect(reads).toEqual([]);
  });

  it('may read the HS256 secret when one is configured, and only that secret', () => {
    const withSecret = synth({
      jwksUrl: undefined,
      jwtSecretArn: SECRET_ARN,
      jwtIssuer: 'https://id.example',
      jwtAudience: 'herald',
    });
    const fn = withSecret.code.http.function;
    const reads = statementsOf(withSecret, fn).filter((s) =>
      [s.Action].flat().includes('secretsmanager:GetSecretValue'),
    );
    expect(reads.map((s) => s.Resource)).toEqual([[SECRET_ARN, `${SECRET_ARN}-??????`]]);
    const variables =
      withSecret.template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables;
    expect(variables).toMatchObject({
      [ENV.jwtSecretArn]: SECRET_ARN,
      [ENV.jwtIssuer]: 'https://id.example',
      [ENV.jwtAudience]: 'herald',
    });
    expect(variables[ENV.jwksUrl]).toBeUndefined();
  });

  it('warns at synth when no verification is configured', () => {
    const bare = synth({ jwksUrl: undefined });
    const warnings = Annotations.fromStack(bare.code).findWarning(
      `/${bare.code.http.function.node.path}`,
      Match.stringLikeRegexp('the HTTP API will refuse every token'),
    );
    expect(warnings).toHaveLength(1);
  });
});
