import { Duration } from 'aws-cdk-lib';
import type { IHttpApi, IWebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Operation, type Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRIC_NAMESPACE, type MetricName, serviceName } from '#config/metric-names';
import { AlarmTopic } from './alarm-topic';
import { PipelineDashboard } from './pipeline-dashboard';
import { THRESHOLDS } from './thresholds';

export interface HeraldMonitoringProps {
  /** Emailed every alarm when given (context `alarmEmail`). */
  alarmEmail?: string;
}

/** Alarm when a value is at or above the threshold, for the periods given (one by default). */
interface AlarmSpec {
  metric: IMetric;
  threshold: number;
  description: string;
  evaluationPeriods?: number;
  datapointsToAlarm?: number;
}

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

/**
 * All of Herald's monitoring in one place: an alarm topic (optionally emailed), alarms on
 * every queue, function, API, table and SES reputation, Herald's own metrics, and a
 * dashboard of the pipeline publish → queue → fan-out → push/email. Each `watch…` call adds
 * one resource's alarms and its dashboard widgets, so a new function or queue is one line.
 */
export class HeraldMonitoring extends Construct {
  readonly alarmTopic: ITopic;
  readonly dashboard: PipelineDashboard;
  readonly alarms: Alarm[] = [];
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: HeraldMonitoringProps = {}) {
    super(scope, id);
    this.alarmTopic = new AlarmTopic(this, 'Alarms', { email: props.alarmEmail }).topic;
    this.action = new SnsAction(this.alarmTopic);
    this.dashboard = new PipelineDashboard(this, 'Dashboard');
  }

  /** An alarm sent to the alarm topic (both when it fires and when it clears). */
  alarm(id: string, spec: AlarmSpec): Alarm {
    const alarm = new Alarm(this, id, {
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: spec.evaluationPeriods ?? 1,
      datapointsToAlarm: spec.datapointsToAlarm,
      // No data means nothing happened: no messages, no invocations, no errors.
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: spec.description,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }

  /** Lays out the dashboard: call once every resource is watched. */
  complete(): void {
    this.dashboard.layOut();
  }

  /** The topic publishers write to: its deliveries and failures on the dashboard. */
  watchTopic(topic: ITopic): void {
    this.dashboard.addTopic(topic);
  }

  /** A queue a function consumes, and its DLQ: the oldest message's age, and any dead letter. */
  watchQueue(
    label: string,
    queues: { queue: IQueue; deadLetterQueue: IQueue },
    maxAgeMinutes: number,
  ): void {
    this.alarm(`${label}OldestMessage`, {
      metric: queues.queue.metricApproximateAgeOfOldestMessage({
        period: ONE_MINUTE,
        statistic: 'Maximum',
      }),
      threshold: maxAgeMinutes * 60,
      evaluationPeriods: 3,
      description: `${label}: the oldest message has waited ${maxAgeMinutes} minutes or more (consumer failing, throttled or too slow)`,
    });
    this.watchDeadLetterQueue(label, queues.deadLetterQueue);
    this.dashboard.addQueue(label, queues.queue, queues.deadLetterQueue);
  }

  /** Any message in a dead-letter queue needs a look (and `npm run redrive`) within 14 days. */
  watchDeadLetterQueue(label: string, queue: IQueue): void {
    this.alarm(`${label}DeadLetters`, {
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: ONE_MINUTE,
        statistic: 'Maximum',
      }),
      threshold: 1,
      description: `${label}: the dead-letter queue holds messages; each carries its herald.reason`,
    });
  }

  /** A function's errors, throttles, and p99 duration near its timeout. */
  watchFunction(label: string, fn: LambdaFunction): void {
    const timeout = fn.timeout ?? Duration.seconds(3);
    this.alarm(`${label}Errors`, {
      metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
      description: `${label}: the function failed invocations (see its log group)`,
    });
    this.alarm(`${label}Throttles`, {
      metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
      description: `${label}: invocations were throttled (account or reserved concurrency)`,
    });
    const limitMs = Math.round(timeout.toMilliseconds() * THRESHOLDS.durationShareOfTimeout);
    this.alarm(`${label}Duration`, {
      metric: fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99' }),
      threshold: limitMs,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description: `${label}: p99 duration is ${Math.round(THRESHOLDS.durationShareOfTimeout * 100)}% of the ${timeout.toSeconds()} s timeout or more`,
    });
    this.dashboard.addFunction(label, fn);
  }

  /** The WebSocket stage: integration and execution errors. */
  watchWebSocket(stage: IWebSocketStage): void {
    const metric = (metricName: string) =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: stage.api.apiId, Stage: stage.stageName },
        period: FIVE_MINUTES,
        statistic: 'Sum',
      });
    for (const name of ['IntegrationError', 'ExecutionError']) {
      this.alarm(`WebSocket${name}`, {
        metric: metric(name),
        threshold: 5,
        description: `WebSocket API: ${name} (a route's function failed or could not be called)`,
      });
    }
    this.dashboard.addWebSocket(metric('ConnectCount'), metric('MessageCount'), [
      metric('IntegrationError'),
      metric('ExecutionError'),
      metric('ClientError'),
    ]);
  }

  /** The HTTP API: the share of requests answered 5xx. */
  watchHttpApi(api: IHttpApi): void {
    const rate = new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: {
        errors: api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        requests: api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
      },
      label: 'HTTP API 5xx %',
      period: FIVE_MINUTES,
    });
    this.alarm('HttpApi5xxRate', {
      metric: rate,
      threshold: THRESHOLDS.httpServerErrorPercent,
      description: `HTTP API: ${THRESHOLDS.httpServerErrorPercent}% or more of requests answered 5xx`,
    });
    this.dashboard.addHttpApi(rate);
  }

  /** A table's throttled requests and system errors, over the operations Herald uses. */
  watchTable(label: string, table: Table): void {
    const operations = [
      Operation.GET_ITEM,
      Operation.BATCH_GET_ITEM,
      Operation.QUERY,
      Operation.PUT_ITEM,
      Operation.UPDATE_ITEM,
      Operation.DELETE_ITEM,
      Operation.BATCH_WRITE_ITEM,
    ];
    const throttles = table.metricThrottledRequestsForOperations({
      operations,
      period: FIVE_MINUTES,
    });
    const errors = table.metricSystemErrorsForOperations({ operations, period: FIVE_MINUTES });
    this.alarm(`${label}Throttles`, {
      metric: throttles,
      threshold: 1,
      description: `${label} table: requests throttled`,
    });
    this.alarm(`${label}SystemErrors`, {
      metric: errors,
      threshold: 1,
      description: `${label} table: DynamoDB answered with system errors (HTTP 500)`,
    });
    this.dashboard.addTable(label, throttles, errors);
  }

  /** The account's SES reputation: bounce and complaint rates, before AWS reviews or pauses. */
  watchSesReputation(): void {
    const reputation = (metricName: string) =>
      new Metric({
        namespace: 'AWS/SES',
        metricName,
        period: Duration.minutes(15),
        statistic: 'Maximum',
      });
    const bounce = reputation('Reputation.BounceRate');
    const complaint = reputation('Reputation.ComplaintRate');
    this.alarm('SesBounceRate', {
      metric: bounce,
      threshold: THRESHOLDS.sesBounceRate,
      description: `SES: bounce rate ${THRESHOLDS.sesBounceRate * 100}% or more (AWS reviews the account at 5%)`,
    });
    this.alarm('SesComplaintRate', {
      metric: complaint,
      threshold: THRESHOLDS.sesComplaintRate,
      description: `SES: complaint rate ${THRESHOLDS.sesComplaintRate * 100}% or more (AWS reviews the account at 0.1%)`,
    });
    this.dashboard.addSes(bounce, complaint);
  }

  /** Herald's own metrics (functions/config/metric-names.ts): what AWS cannot see. */
  watchHeraldMetrics(handlers: { fanOut: string; email: string }): void {
    const fanOut = (name: MetricName, statistic = 'Sum') =>
      heraldMetric(name, handlers.fanOut, statistic);
    const email = (name: MetricName) => heraldMetric(name, handlers.email, 'Sum');
    this.alarm('AbandonedPushes', {
      metric: fanOut(METRIC.abandoned),
      threshold: 1,
      description: 'Fan-out: pushes given up after every retry (the inbox still has them)',
    });
    this.alarm('FanOutRejected', {
      metric: fanOut(METRIC.messagesRejected),
      threshold: 1,
      description: 'Fan-out: messages rejected to the dead-letter queue as never processable',
    });
    this.alarm('EmailRejected', {
      metric: email(METRIC.messagesRejected),
      threshold: 1,
      description: 'Email: messages rejected to the dead-letter queue as never processable',
    });
    this.alarm('ConnectionsThrottled', {
      metric: fanOut(METRIC.connectionsThrottled),
      threshold: THRESHOLDS.connectionsThrottled,
      description: `Fan-out: ${THRESHOLDS.connectionsThrottled} or more @connections posts answered 429 in five minutes (API Gateway's account throttle)`,
    });
    this.dashboard.addHeraldMetrics({
      pushes: [METRIC.delivered, METRIC.pruned, METRIC.deferred, METRIC.abandoned].map((name) =>
        fanOut(name),
      ),
      latency: ['p50', 'p99'].map((statistic) => fanOut(METRIC.publishToPushLatency, statistic)),
      throttled: fanOut(METRIC.connectionsThrottled),
      emails: [METRIC.emailsSent, METRIC.emailsSkipped, METRIC.emailsThrottled].map(email),
      rejected: [fanOut(METRIC.messagesRejected), email(METRIC.messagesRejected)],
    });
  }

  /**
   * The snooze wake-up: how far its watermark lags behind now. It catches up by itself; an
   * alarm says snoozes are coming back late (a failing or throttled function: see its own).
   */
  watchSnoozeBacklog(handlerName: string): void {
    this.alarm('SnoozeBacklog', {
      metric: heraldMetric(METRIC.snoozeBacklogMinutes, handlerName, 'Maximum'),
      threshold: THRESHOLDS.snoozeBacklogMinutes,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      description: `Snooze wake-up: its watermark is ${THRESHOLDS.snoozeBacklogMinutes} minutes or more behind; snoozed notifications come back late`,
    });
  }
}

/** One of Herald's EMF metrics, with the `service` dimension Powertools gives it. */
function heraldMetric(name: MetricName, handlerName: string, statistic: string): Metric {
  return new Metric({
    namespace: METRIC_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: serviceName(handlerName) },
    period: FIVE_MINUTES,
    statistic,
    label: `${name} ${statistic}`,
  });
}
