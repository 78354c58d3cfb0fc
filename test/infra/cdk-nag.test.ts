import { App, Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { productionApp } from '#test/support/production-app';

/**
 * cdk-nag's AwsSolutions and Serverless packs over the app as production deploys it. Every
 * finding is fixed or acknowledged in code beside its resource
 * (`Validations.of(construct).acknowledge({ id, reason })`), so none may be left here.
 */

/**
 * FIXED BY THE OPS BRANCH: findings another branch fixes (the runtime moves to Node 24; the
 * SNS subscriptions get dead-letter queues). Remove this list once that branch is merged.
 */
/** The production-shaped app: every finding is fixed or acknowledged beside its resource. */
function productionAppForNag(): App {
  return productionApp().app;
}

const packs = (app: App) => [new AwsSolutionsChecks(app), new ServerlessChecks(app)];

describe('cdk-nag', () => {
  it('finds nothing unacknowledged in either stack (AwsSolutions, Serverless)', () => {
    const app = productionAppForNag();
    const findings = packs(app).flatMap((pack) =>
      pack
        .validateScope(app)
        .violations.flatMap((violation) =>
          violation.violatingResources.map(
            (resource) =>
              `${violation.ruleName} at ${resource.constructPath}: ${violation.description}`,
          ),
        ),
    );
    expect(findings).toEqual([]);
  }, 300_000);

  it('lets the app synthesize with both packs registered as validation plugins', () => {
    const app = productionAppForNag();
    Validations.of(app).addPlugins(...packs(app));
    expect(() => app.synth()).not.toThrow();
  }, 300_000);

  it('stops synthesis on a finding (so the test above can fail)', () => {
    const app = new App();
    // No dead-letter queue and no TLS-only policy: AwsSolutions-SQS3 and -SQS4.
    new Queue(new Stack(app, 'Bad'), 'Queue');
    Validations.of(app).addPlugins(...packs(app));
    expect(() => app.synth()).toThrow();
  }, 300_000);
});
