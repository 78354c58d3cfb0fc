import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  type CorsPreflightOptions,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  type WebSocketStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpLambdaAuthorizer,
  HttpLambdaResponseType,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct, type Node } from 'constructs';
import { ENV } from '../../functions/config/env-names';
import { TOPOLOGY } from '../topology';
import { HeraldFunction } from './herald-function';
import type { HeraldSettings, JwtSettings } from './herald-settings';
import type { HeraldTable } from './herald-table';

/** DESIGN.md: the same JWT as the WebSocket, as `Authorization: Bearer <JWT>`. */
export const HTTP_IDENTITY_SOURCE = '$request.header.Authorization';
/**
 * How long a verdict on one Authorization header is reused. A token that expires within
 * this window stays accepted until the window ends; five minutes bounds that.
 */
export const AUTHORIZER_CACHE_TTL = Duration.minutes(5);

/** One access-log line per request; no headers at all, so no token reaches a log. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTimeEpoch',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
} as const;

export interface InboxHttpApiProps {
  connections: HeraldTable;
  notifications: HeraldTable;
  /** The WebSocket stage whose connections get `state` frames. */
  webSocketStage: WebSocketStage;
  settings: HeraldSettings;
  /** Browser origins allowed to call the API; none (no CORS) when empty. */
  corsOrigins: string[];
}

/**
 * The HTTP API of DESIGN.md: every route of `TOPOLOGY.httpRoutes` to the inbox function,
 * each behind a Lambda authorizer that verifies the bearer JWT like the WebSocket's does.
 * The inbox function reads and changes the notifications table, lists and prunes the
 * user's connections, and posts `state` frames through the WebSocket stage.
 */
export class InboxHttpApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly authorizerFunction: HeraldFunction;
  readonly function: HeraldFunction;

  constructor(scope: Construct, id: string, props: InboxHttpApiProps) {
    super(scope, id);
    const { settings } = props;

    this.authorizerFunction = new HeraldFunction(this, 'Authorizer', {
      handlerName: 'http-authorizer',
      description: 'Verifies the bearer JWT of an HTTP API request',
      logLevel: settings.logLevel,
    });
    configureJwt(this.authorizerFunction, settings.jwt);

    this.function = new HeraldFunction(this, 'Function', {
      handlerName: 'http-api',
      description: 'The HTTP API: inbox, read state, preferences',
      logLevel: settings.logLevel,
      environment: {
        // The management endpoint comes from configuration, never from the request's domain.
        [ENV.callbackUrl]: props.webSocketStage.callbackUrl,
      },
    });
    this.function.bindTable(props.notifications, 'readWrite');
    // Read to find the user's live connections, write to prune the gone ones.
    this.function.bindTable(props.connections, 'readWrite');
    props.webSocketStage.grantManagementApiAccess(this.function);

    this.api = new HttpApi(this, 'Api', {
      description: 'Herald inbox, read state and preferences',
      createDefaultStage: false,
      corsPreflight: corsPreflight(props.corsOrigins),
    });
    const authorizer = new HttpLambdaAuthorizer('JwtAuthorizer', this.authorizerFunction, {
      identitySource: [HTTP_IDENTITY_SOURCE],
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      resultsCacheTtl: AUTHORIZER_CACHE_TTL,
    });
    const integration = new HttpLambdaIntegration('Inbox', this.function);
    for (const routeKey of TOPOLOGY.httpRoutes) {
      const [method, path] = routeKey.split(' ') as [keyof typeof HttpMethod, string];
      this.api.addRoutes({ path, methods: [HttpMethod[method]], integration, authorizer });
    }

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: settings.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
  }
}

/**
 * CORS only for the origins named. Bearer tokens travel in a header, never in cookies, so
 * credentials stay off and `*` would be safe; still, no origin is allowed until one is named,
 * so opening the API to browsers elsewhere is a deliberate deploy-time choice.
 */
function corsPreflight(origins: string[]): CorsPreflightOptions | undefined {
  if (origins.length === 0) return undefined;
  return {
    allowOrigins: origins,
    allowMethods: [
      CorsHttpMethod.GET,
      CorsHttpMethod.POST,
      CorsHttpMethod.PUT,
      CorsHttpMethod.DELETE,
    ],
    allowHeaders: ['authorization', 'content-type'],
    allowCredentials: false,
    maxAge: Duration.hours(1),
  };
}

/** Reads context `corsOrigins`: a comma-separated list of origins, or `*` alone. */
export function readCorsOrigins(node: Node): string[] {
  const value: unknown = node.tryGetContext('corsOrigins');
  if (value === undefined || value === null || value === '') return [];
  const list = Array.isArray(value) ? value : String(value).split(',');
  const origins = [...new Set(list.map((origin) => String(origin).trim()).filter(Boolean))];
  if (origins.includes('*') && origins.length > 1) {
    throw new Error('context corsOrigins: "*" stands alone');
  }
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(origin)) {
      throw new Error(
        `context corsOrigins: "${origin}" is not an origin like https://app.example.com`,
      );
    }
  }
  return origins;
}

/** The same verification settings the WebSocket's authorizer gets. */
function configureJwt(fn: HeraldFunction, jwt: JwtSettings): void {
  if (jwt.secretArn) {
    fn.addEnvironment(ENV.jwtSecretArn, jwt.secretArn);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        // A complete ARN ends in a random suffix; a partial one needs the wildcard.
        resources: [jwt.secretArn, `${jwt.secretArn}-??????`],
      }),
    );
  } else if (jwt.jwksUrl) {
    fn.addEnvironment(ENV.jwksUrl, jwt.jwksUrl);
  } else {
    Annotations.of(fn).addWarningV2(
      'herald:http-jwt-not-configured',
      'No JWT verification configured: the HTTP API refuses every token until context ' +
        'jwtSecretArn or jwksUrl is set.',
    );
  }
  if (jwt.issuer) fn.addEnvironment(ENV.jwtIssuer, jwt.issuer);
  if (jwt.audience) fn.addEnvironment(ENV.jwtAudience, jwt.audience);
}
