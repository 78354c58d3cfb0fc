import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { LogGroupLogDestination, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '#config/env-names';
import { ApiGatewayLoggingRole } from './api-gateway-logging-role';
import { HeraldFunction } from './herald-function';
import type { HeraldSettings } from './herald-settings';
import type { HeraldTable } from './herald-table';
import { configureJwt } from './jwt-config';

export interface WebSocketGatewayProps {
  connections: HeraldTable;
  notifications: HeraldTable;
  settings: HeraldSettings;
}

/** Where the token travels at connect (DESIGN.md: `wss://<api>/<stage>?token=<JWT>`). */
const TOKEN_IDENTITY_SOURCE = 'route.request.querystring.token';

/**
 * One access-log line per WebSocket event, as JSON. Only WebSocket `$context` variables;
 * deliberately nothing from the query string, so the token never reaches a log.
 */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  connectionId: '$context.connectionId',
  routeKey: '$context.routeKey',
  eventType: '$context.eventType',
  status: '$context.status',
  ip: '$context.identity.sourceIp',
  requestTimeEpoch: '$context.requestTimeEpoch',
  integrationLatency: '$context.integrationLatency',
  errorMessage: '$context.error.message',
  authorizerError: '$context.authorizer.error',
} as const;

/**
 * The browser-facing WebSocket API: `$connect` behind the JWT authorizer, `$disconnect`,
 * and `$default`, whose handler answers through the route response. The stage throttles
 * its default route and writes access logs. All three route functions may post to this
 * stage's connections: replays and state pushes, presence changes.
 */
export class WebSocketGateway extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;
  readonly authorizerFunction: HeraldFunction;
  readonly connectFunction: HeraldFunction;
  readonly disconnectFunction: HeraldFunction;
  readonly messageFunction: HeraldFunction;

  constructor(scope: Construct, id: string, props: WebSocketGatewayProps) {
    super(scope, id);
    const { connections, notifications, settings } = props;
    const { logLevel } = settings;

    this.authorizerFunction = new HeraldFunction(this, 'Authorizer', {
      handlerName: 'authorizer',
      description: 'Verifies the JWT of a WebSocket connect',
      logLevel,
    });
    configureJwt(this.authorizerFunction, settings.jwt, 'the WebSocket authorizer');

    this.connectFunction = new HeraldFunction(this, 'Connect', {
      handlerName: 'connect',
      description: 'Records a new WebSocket connection and announces presence',
      logLevel,
    });
    // Reads too: a first connection is told apart by the user's others, watchers by topic.
    this.connectFunction.bindTable(connections, 'readWrite');
    // The email address a token carries is remembered in the user's directory entry.
    this.connectFunction.bindTable(notifications, 'write');

    this.disconnectFunction = new HeraldFunction(this, 'Disconnect', {
      handlerName: 'disconnect',
      description: 'Removes a closed WebSocket connection and announces presence',
      logLevel,
    });
    this.disconnectFunction.bindTable(connections, 'readWrite');

    this.messageFunction = new HeraldFunction(this, 'Message', {
      handlerName: 'message',
      description: 'Answers client frames: subscribe, resume, markRead, state, presence',
      logLevel,
    });
    this.messageFunction.bindTable(connections, 'readWrite');
    // The `refresh` frame verifies a new token exactly as the authorizer does.
    configureJwt(this.messageFunction, settings.jwt, 'the refresh frame');
    // Replays from the inbox and topic histories; marks read with the unread count.
    this.messageFunction.bindTable(notifications, 'readWrite');

    this.api = new WebSocketApi(this, 'Api', {
      description: 'Herald real-time notifications',
      connectRouteOptions: {
        integration: new WebSocketLambdaIntegration('Connect', this.connectFunction),
        authorizer: new WebSocketLambdaAuthorizer('JwtAuthorizer', this.authorizerFunction, {
          identitySource: [TOKEN_IDENTITY_SOURCE],
        }),
      },
      disconnectRouteOptions: {
        integration: new WebSocketLambdaIntegration('Disconnect', this.disconnectFunction),
      },
      defaultRouteOptions: {
        integration: new WebSocketLambdaIntegration('Message', this.messageFunction),
        returnResponse: true,
      },
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: settings.stageName,
      autoDeploy: true,
      throttle: settings.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    // Replays and `state` pushes (message), presence changes (connect, disconnect) and the
    // closing of a user's oldest connection past the cap (connect) go through this stage's
    // management API, named by configuration, never the request.
    for (const fn of [this.connectFunction, this.disconnectFunction, this.messageFunction]) {
      fn.addEnvironment(ENV.callbackUrl, this.stage.callbackUrl);
      this.stage.grantManagementApiAccess(fn);
    }

    if (settings.apiGatewayCloudWatchRole) {
      const logging = new ApiGatewayLoggingRole(this, 'LoggingRole');
      this.stage.node.addDependency(logging.account);
    }
  }
}
