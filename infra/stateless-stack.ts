import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ConnectionLifetime } from './constructs/connection-lifetime';
import { EmailConsumer } from './constructs/email-consumer';
import { EventBridgeIngress } from './constructs/eventbridge-ingress';
import { FanOutConsumer } from './constructs/fan-out-consumer';
import type { HeraldSettings } from './constructs/herald-settings';
import { InboxHttpApi, readCorsOrigins } from './constructs/http-api';
import { InboxExpiryConsumer } from './constructs/inbox-expiry-consumer';
import { HeraldMonitoring } from './constructs/monitoring/herald-monitoring';
import { THRESHOLDS } from './constructs/monitoring/thresholds';
import { SesReputation } from './constructs/ses-reputation';
import { SnoozeWakeUp } from './constructs/snooze-wake-up';
import { WebSocketGateway } from './constructs/websocket-gateway';
import type { HeraldData } from './stateful-stack';

export interface StatelessStackProps extends StackProps {
  data: HeraldData;
  settings: HeraldSettings;
}

/** All of Herald's code, one construct per capability, over the stateful stack's resources. */
export class StatelessStack extends Stack {
  readonly gateway: WebSocketGateway;
  readonly fanOut: FanOutConsumer;
  readonly email: EmailConsumer;
  readonly http: InboxHttpApi;
  readonly inboxExpiry: InboxExpiryConsumer;
  readonly monitoring: HeraldMonitoring;
  readonly lifetime: ConnectionLifetime;
  readonly eventBridge: EventBridgeIngress;
  readonly ses: SesReputation;
  readonly snooze: SnoozeWakeUp;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { data, settings } = props;
    const tables = { connections: data.connections, notifications: data.notifications };

    this.gateway = new WebSocketGateway(this, 'WebSocket', {
      ...tables,
      fanOut: data.fanOut,
      settings,
    });
    this.fanOut = new FanOutConsumer(this, 'FanOut', {
      ...tables,
      queue: data.fanOut,
      stage: this.gateway.stage,
      settings,
    });
    this.ses = new SesReputation(this, 'Ses', { notifications: data.notifications, settings });
    this.email = new EmailConsumer(this, 'Email', {
      ...tables,
      queue: data.email,
      settings,
      configurationSetName: this.ses.configurationSet.configurationSetName,
    });
    this.http = new InboxHttpApi(this, 'Http', {
      ...tables,
      webSocketStage: this.gateway.stage,
      settings,
      corsOrigins: readCorsOrigins(this.node),
    });

    this.inboxExpiry = new InboxExpiryConsumer(this, 'InboxExpiry', {
      ...tables,
      stage: this.gateway.stage,
      failures: data.expiryFailures,
      settings,
    });

    this.lifetime = new ConnectionLifetime(this, 'ConnectionLifetime', {
      connections: data.connections,
      stage: this.gateway.stage,
      settings,
    });

    this.snooze = new SnoozeWakeUp(this, 'Snooze', {
      ...tables,
      stage: this.gateway.stage,
      settings,
    });

    this.eventBridge = new EventBridgeIngress(this, 'EventBridgeIngress', {
      topic: data.topic,
      busName: settings.eventBusName,
      sourceTenants: settings.eventSourceTenants,
    });

    this.monitoring = this.watch(data, settings);

    new CfnOutput(this, 'EventBusName', {
      value: this.eventBridge.bus.eventBusName,
      description: 'Put Herald envelopes here (detail-type "Herald Notification")',
    });
    new CfnOutput(this, 'WebSocketUrl', {
      value: this.gateway.stage.url,
      description: 'Clients connect to this URL with ?token=<JWT>',
    });
    new CfnOutput(this, 'HttpApiUrl', {
      value: this.http.stage.url,
      description: 'The HTTP API (Authorization: Bearer <JWT>), e.g. GET <url>notifications',
    });
    new CfnOutput(this, 'CallbackUrl', {
      value: this.gateway.stage.callbackUrl,
      description: "The stage's @connections management endpoint",
    });
    new CfnOutput(this, 'CutOffFunctionName', {
      value: this.lifetime.cutOffFunction.functionName,
      description: 'Invoke with {"tenant","userId"} to close every connection of a user',
    });
  }

  /** Alarms and the dashboard over everything above: one line per resource. */
  private watch(data: HeraldData, settings: HeraldSettings): HeraldMonitoring {
    const monitoring = new HeraldMonitoring(this, 'Monitoring', {
      alarmEmail: settings.alarmEmail,
    });
    const { oldestMessageMinutes } = THRESHOLDS;
    monitoring.watchTopic(data.topic);
    monitoring.watchQueue('FanOutQueue', data.fanOut, oldestMessageMinutes.fanOut);
    monitoring.watchQueue('EmailQueue', data.email, oldestMessageMinutes.email);
    monitoring.watchDeadLetterQueue('ExpiryFailures', data.expiryFailures);
    monitoring.watchFunction('FanOut', this.fanOut.function);
    monitoring.watchFunction('Email', this.email.function);
    monitoring.watchFunction('Authorizer', this.gateway.authorizerFunction);
    monitoring.watchFunction('Connect', this.gateway.connectFunction);
    monitoring.watchFunction('Disconnect', this.gateway.disconnectFunction);
    monitoring.watchFunction('Message', this.gateway.messageFunction);
    monitoring.watchFunction('HttpApi', this.http.function);
    monitoring.watchFunction('InboxExpiry', this.inboxExpiry.function);
    monitoring.watchFunction('ConnectionSweep', this.lifetime.sweepFunction);
    monitoring.watchFunction('CutOff', this.lifetime.cutOffFunction);
    monitoring.watchFunction('SnoozeSweep', this.snooze.function);
    monitoring.watchSnoozeBacklog('snooze-sweep');
    monitoring.watchFunction('SesFeedback', this.ses.function);
    if (this.http.authorizerFunction !== undefined) {
      monitoring.watchFunction('HttpAuthorizer', this.http.authorizerFunction);
    }
    monitoring.watchWebSocket(this.gateway.stage);
    monitoring.watchHttpApi(this.http.api);
    monitoring.watchTable('Connections', data.connections);
    monitoring.watchTable('Notifications', data.notifications);
    monitoring.watchSesReputation();
    monitoring.watchHeraldMetrics({ fanOut: 'fan-out', email: 'email' });
    monitoring.watchDeadLetterQueue('IngressDeadLetters', this.eventBridge.deadLetterQueue);
    monitoring.watchDeadLetterQueue('SesFeedbackDeadLetters', this.ses.deadLetterQueue);
    monitoring.complete();
    return monitoring;
  }
}
