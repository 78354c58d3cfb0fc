import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  type CorsPreflightOptions,
  HttpApi,
  HttpMethod,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
  type WebSocketStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpJwtAuthorizer,
  HttpLambdaAuthorizer,
  HttpLambdaResponseType,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct, type Node } from 'constructs';
import { INBOX_INDEXES } from '#config/inbox-indexes';
import { TOPOLOGY } from '#config/topology';
import { bindConnections, bindTable } from './function-grants';
import { HeraldFunction } from './herald-function';
import type { HeraldSettings } from './herald-settings';
import type { HeraldTable } from './herald-table';
import { configureJwt } from './jwt-config';

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

/** How long API Gateway keeps a Lambda authorizer's verdict per Authorization header. */
export const AUTHORIZER_CACHE_TTL = Duration.minutes(5);
/** Where the HTTP API's authorizers read the token (`Authorization: Bearer <JWT>`). */
const HEADER_IDENTITY_SOURCE = '$request.header.Authorization';

/**
 * The HTTP API of DESIGN.md: every route of `TOPOLOGY.httpRoutes` to the inbox function,
 * behind an API Gateway authorizer that refuses a request without a valid token before any
 * Lambda of Herald's runs where AWS can (a JWT authorizer with issuer and audience in JWKS
 * mode), else before the inbox function runs (a cached Lambda authorizer). Their refusals
 * are API Gateway's own bodies (401 `{"message":"Unauthorized"}` without the header, 403
 * `{"message":"Forbidden"}` for a bad token), which HTTP APIs cannot change; the inbox
 * function still verifies the token itself and answers Herald's 401 error body for what the
 * authorizer let through (a token that expired while its allow was cached, a wrong `typ`).
 * The inbox function reads and changes the notifications table, lists and prunes the
 * user's connections, and posts `state` frames through the WebSocket stage.
 */
export class InboxHttpApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly function: HeraldFunction;
  /** The Lambda authorizer's function; absent when API Gateway's JWT authorizer verifies. */
  readonly authorizerFunction?: HeraldFunction;

  constructor(scope: Construct, id: string, props: InboxHttpApiProps) {
    super(scope, id);
    const { settings } = props;

    this.function = new HeraldFunction(this, 'Function', {
      handlerName: 'http-api',
      description: 'The HTTP API: inbox, read state, preferences',
      logLevel: settings.logLevel,
    });
    configureJwt(this.function, settings.jwt, 'the HTTP API');
    // Lists the inbox through its indexes and fetches the rows listed (BatchGetItem), reads
    // one (GetItem), flips flags and tombstones (UpdateItem), writes preferences (PutItem),
    // counts the unread and unseen (Queries of their indexes).
    bindTable(this.function, props.notifications, {
      items: ['Query', 'GetItem', 'BatchGetItem', 'UpdateItem', 'PutItem'],
      queryIndexes: [
        INBOX_INDEXES.unread.name,
        INBOX_INDEXES.unseen.name,
        INBOX_INDEXES.visible.name,
      ],
    });
    // Lists the user's live connections; prunes a gone one (read its entry, batch-delete).
    bindTable(this.function, props.connections, { items: ['Query', 'GetItem', 'BatchWriteItem'] });
    bindConnections(this.function, props.webSocketStage, ['POST', 'DELETE']);

    this.api = new HttpApi(this, 'Api', {
      description: 'Herald inbox, read state and preferences',
      createDefaultStage: false,
      corsPreflight: corsPreflight(props.corsOrigins),
    });
    let authorizer: IHttpRouteAuthorizer;
    const { jwt } = settings;
    if (jwt.jwksUrl && jwt.issuer && jwt.audience) {
      // API Gateway verifies against the issuer's discovery document: no Lambda runs at all.
      authorizer = new HttpJwtAuthorizer('JwtAuthorizer', jwt.issuer, {
        identitySource: [HEADER_IDENTITY_SOURCE],
        jwtAudience: jwt.audience
          .split(',')
          .map((each) => each.trim())
          .filter(Boolean),
      });
    } else {
      this.authorizerFunction = new HeraldFunction(this, 'Authorizer', {
        handlerName: 'http-authorizer',
        description: 'Refuses HTTP API requests without a valid bearer token',
        logLevel: settings.logLevel,
      });
      configureJwt(this.authorizerFunction, jwt, 'the HTTP API authorizer');
      authorizer = new HttpLambdaAuthorizer('TokenAuthorizer', this.authorizerFunction, {
        identitySource: [HEADER_IDENTITY_SOURCE],
        responseTypes: [HttpLambdaResponseType.SIMPLE],
        resultsCacheTtl: AUTHORIZER_CACHE_TTL,
      });
    }
    const integration = new HttpLambdaIntegration('Inbox', this.function);
    for (const routeKey of TOPOLOGY.httpRoutes) {
      const [method, path] = routeKey.split(' ') as [keyof typeof HttpMethod, string];
      this.api.addRoutes({ path, methods: [HttpMethod[method]], integration, authorizer });
    }

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Every route verifies the bearer JWT in the function (see above), so refusals are ' +
        "Herald's 401 body; no request reaches data without a valid token",
    });

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
