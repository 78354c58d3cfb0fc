import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnStage,
  LogGroupLogDestination,
  WebSocketApi,
  WebSocketStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { INBOX_INDEXES } from '#config/inbox-indexes';
import { ApiGatewayLoggingRole } from './api-gateway-logging-role';
import { bindConnections, bindTable } from './function-grants';
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
 * every route (`throttle`), `$connect` separately (`connectThrottle`), and writes access logs. All three route functions may post to this
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
    // Writes its entries in one batch; lists the user's others (first connection? over the
    // cap?) and the presence watchers; reads and removes the oldest past the cap.
    bindTable(this.connectFunction, connections, { items: ['BatchWriteItem', 'Query', 'GetItem'] });
    // The email address a token carries is remembered in the user's directory entry: one
    // UpdateItem, so it can neither read nor delete notifications.
    bindTable(this.connectFunction, notifications, { items: ['UpdateItem'] });

    this.disconnectFunction = new HeraldFunction(this, 'Disconnect', {
      handlerName: 'disconnect',
      description: 'Removes a closed WebSocket connection and announces presence',
      logLevel,
    });
    // Reads the connection's entry to remove its entries in one batch; lists watchers.
    bindTable(this.disconnectFunction, connections, {
      items: ['GetItem', 'BatchWriteItem', 'Query'],
    });

    this.messageFunction = new HeraldFunction(this, 'Message', {
      handlerName: 'message',
      description: 'Answers client frames: subscribe, resume, markRead, state, presence',
      logLevel,
    });
    // Subscribe and unsubscribe update the connection entry and batch the topic entries; the
    // frame budget is an UpdateItem; `refresh` moves the connection's expiry listing (Put, Delete).
    bindTable(this.messageFunction, connections, {
      items: ['GetItem', 'UpdateItem', 'BatchWriteItem', 'Query', 'PutItem', 'DeleteItem'],
    });
    // Replays from the inbox and topic histories; marks read (GetItem, UpdateItem) and counts
    // the unread and unseen (Queries of their indexes). Never puts or deletes a notification.
    bindTable(this.messageFunction, notifications, {
      items: ['GetItem', 'Query', 'UpdateItem'],
      queryIndexes: [INBOX_INDEXES.unread.name, INBOX_INDEXES.unseen.name],
    });
    // The `refresh` frame verifies a new token exactly as the authorizer does.
    configureJwt(this.messageFunction, settings.jwt, 'the refresh frame');

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

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'A WebSocket API authorizes on $connect only (the JWT authorizer above); $default and ' +
        '$disconnect run on a connection already authorized, with its identity',
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
    // `$connect` gets a budget of its own: a connect flood (an authorizer and a connect
    // invocation each) is throttled there and leaves connected clients' frames alone.
    // RouteSettings is plain JSON to CloudFormation: its keys are written as CFN spells them.
    (this.stage.node.defaultChild as CfnStage).routeSettings = {
      $connect: {
        ThrottlingRateLimit: settings.connectThrottle.rateLimit,
        ThrottlingBurstLimit: settings.connectThrottle.burstLimit,
      },
    };

    // Replays and `state` pushes (message) and presence changes (connect, disconnect) POST
    // frames. Each may close a socket (DELETE): one whose token a push finds expired, a
    // user's oldest past the cap (connect), one flooding frames (message).
    bindConnections(this.connectFunction, this.stage, ['POST', 'DELETE']);
    bindConnections(this.disconnectFunction, this.stage, ['POST', 'DELETE']);
    bindConnections(this.messageFunction, this.stage, ['POST', 'DELETE']);

    if (settings.apiGatewayCloudWatchRole) {
      const logging = new ApiGatewayLoggingRole(this, 'LoggingRole');
      this.stage.node.addDependency(logging.account);
    }
  }
}
