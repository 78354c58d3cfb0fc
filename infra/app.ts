import { App } from 'aws-cdk-lib';
import { readSettings } from './constructs/herald-settings';
import { StatefulStack } from './stateful-stack';
import { StatelessStack } from './stateless-stack';

// Environment-agnostic stacks: synth needs no credentials; deploy targets the CLI's account and region.
const app = new App();
const settings = readSettings(app.node);
const data = new StatefulStack(app, 'HeraldData', {
  description: 'Herald data: tables, topic, queues (retained across code deploys)',
  publisherPrincipals: settings.publisherPrincipals,
});
new StatelessStack(app, 'HeraldApp', {
  description: 'Herald code: WebSocket API, authorizer, fan-out and email consumers',
  data,
  settings,
});
