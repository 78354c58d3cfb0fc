import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { readSettings } from '#infra/constructs/herald-settings';
import { StatefulStack } from '#infra/stateful-stack';
import { StatelessStack } from '#infra/stateless-stack';

/** The feature flags `cdk synth` uses, so a test sees the template the CLI makes. */
const CDK_CONTEXT = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'))
  .context as Record<string, unknown>;

export const PRODUCTION_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:herald-jwt';
export const PRODUCTION_EMAIL_FROM = 'Herald <noreply@example.com>';

export interface ProductionApp {
  app: App;
  data: StatefulStack;
  code: StatelessStack;
}

/**
 * Both stacks as `infra/app.ts` builds them, with the context of a production deploy: an
 * HS256 secret, a sender, the API Gateway logging role. Handlers are not bundled.
 */
export function productionApp(options: { outdir?: string } = {}): ProductionApp {
  const app = new App({
    outdir: options.outdir,
    context: {
      ...CDK_CONTEXT,
      'aws:cdk:bundling-stacks': [],
      jwtSecretArn: PRODUCTION_SECRET_ARN,
      emailFrom: PRODUCTION_EMAIL_FROM,
      apiGatewayCloudWatchRole: 'true',
    },
  });
  const settings = readSettings(app.node);
  const data = new StatefulStack(app, 'HeraldData', {
    publisherPrincipals: settings.publisherPrincipals,
  });
  const code = new StatelessStack(app, 'HeraldApp', { data, settings });
  return { app, data, code };
}
