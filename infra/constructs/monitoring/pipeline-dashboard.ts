import { Duration } from 'aws-cdk-lib';
import {
  Dashboard,
  GraphWidget,
  type IMetric,
  type IWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The pipeline's stages, top to bottom, as the dashboard's rows. */
const STAGES = ['publish', 'queue', 'fan-out', 'push', 'email', 'apis', 'tables'] as const;
type StageName = (typeof STAGES)[number];

const TITLES: Record<StageName, string> = {
  publish: '1. Publish: the topic',
  queue: '2. Queues and dead letters',
  'fan-out': '3. Functions',
  push: '4. Push: delivered, publish-to-push latency, throttling',
  email: '5. Email: sent, skipped, SES reputation',
  apis: '6. APIs: WebSocket and HTTP',
  tables: '7. Tables: throttles and system errors',
};

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The CloudWatch dashboard that shows the pipeline at a glance, publish → queue → fan-out →
 * push/email, one row per stage. Widgets are gathered as resources are watched and laid out
 * by `layOut()` once all are, so the rows keep the pipeline's order whatever the call order.
 * Laying out must happen while the app is being built, not at synthesis: a metric of another
 * stack's resource (the data stack's topic, queues, tables) becomes a cross-stack reference
 * only before CDK prepares the stacks.
 */
export class PipelineDashboard extends Construct {
  readonly dashboard: Dashboard;
  private readonly rows = new Map<StageName, IWidget[]>(STAGES.map((stage) => [stage, []]));

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.dashboard = new Dashboard(this, 'Resource', {
      defaultInterval: Duration.hours(3),
    });
  }

  private laidOut = false;

  /** Adds the gathered widgets, row by row; later calls change nothing. */
  layOut(): void {
    if (this.laidOut) return;
    this.laidOut = true;
    for (const stage of STAGES) {
      const widgets = this.rows.get(stage) ?? [];
      if (widgets.length === 0) continue;
      this.dashboard.addWidgets(
        new TextWidget({ markdown: `## ${TITLES[stage]}`, width: 24, height: 1 }),
      );
      this.dashboard.addWidgets(...widgets);
    }
  }

  private add(stage: StageName, title: string, left: IMetric[], right: IMetric[] = []): void {
    this.rows.get(stage)?.push(new GraphWidget({ title, left, right, width: 8, height: 6 }));
  }

  addTopic(topic: ITopic): void {
    this.add(
      'publish',
      'Published / delivered to queues',
      [
        topic.metricNumberOfMessagesPublished({ period: FIVE_MINUTES }),
        topic.metricNumberOfNotificationsDelivered({ period: FIVE_MINUTES }),
      ],
      [
        topic.metricNumberOfNotificationsFailed({ period: FIVE_MINUTES }),
        topic.metric('NumberOfNotificationsRedrivenToDlq', {
          period: FIVE_MINUTES,
          statistic: 'Sum',
        }),
      ],
    );
  }

  addQueue(label: string, queue: IQueue, deadLetterQueue: IQueue): void {
    this.add(
      'queue',
      `${label}: waiting, oldest (s), dead letters`,
      [
        queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES }),
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: FIVE_MINUTES,
          label: 'dead letters',
        }),
      ],
      [queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES })],
    );
  }

  addFunction(label: string, fn: LambdaFunction): void {
    this.add(
      'fan-out',
      `${label}: invocations, errors, throttles; p99 ms`,
      [
        fn.metricInvocations({ period: FIVE_MINUTES }),
        fn.metricErrors({ period: FIVE_MINUTES }),
        fn.metricThrottles({ period: FIVE_MINUTES }),
      ],
      [fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99' })],
    );
  }

  addHeraldMetrics(metrics: {
    pushes: IMetric[];
    latency: IMetric[];
    throttled: IMetric;
    emails: IMetric[];
    rejected: IMetric[];
  }): void {
    this.add('push', 'Pushes: delivered, pruned, deferred, abandoned', metrics.pushes);
    this.add('push', 'Publish-to-push latency (ms), p50 and p99', metrics.latency);
    this.add('push', '@connections 429s; rejected messages', [metrics.throttled], metrics.rejected);
    this.add('email', 'Emails: sent, skipped, throttled', metrics.emails);
  }

  addSes(bounceRate: IMetric, complaintRate: IMetric): void {
    this.add('email', 'SES bounce rate', [bounceRate]);
    this.add('email', 'SES complaint rate', [complaintRate]);
  }

  addWebSocket(connects: IMetric, messages: IMetric, errors: IMetric[]): void {
    this.add('apis', 'WebSocket: connects, messages', [connects, messages]);
    this.add('apis', 'WebSocket: integration, execution, client errors', errors);
  }

  addHttpApi(serverErrorRate: IMetric): void {
    this.add('apis', 'HTTP API: 5xx % of requests', [serverErrorRate]);
  }

  addTable(label: string, throttles: IMetric, systemErrors: IMetric): void {
    // Two graphs: both expressions name their metrics by operation, which one graph cannot hold.
    this.add('tables', `${label}: throttled requests`, [throttles]);
    this.add('tables', `${label}: system errors`, [systemErrors]);
  }
}
