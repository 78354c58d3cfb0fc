import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnResource, Duration, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  NodejsFunction,
  type NodejsFunctionProps,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRIC_NAMESPACE, serviceName } from '#config/metric-names';

/** The entry files under `functions/handlers/`, each exporting `handler`. */
export type HandlerName =
  | 'authorizer'
  | 'connect'
  | 'disconnect'
  | 'message'
  | 'fan-out'
  | 'email'
  | 'http-api'
  | 'http-authorizer'
  | 'inbox-expiry'
  | 'connection-sweep'
  | 'cut-off'
  | 'ses-feedback'
  | 'snooze-sweep';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Some CommonJS dependencies call require(); ESM output has none unless we make one. */
const REQUIRE_SHIM =
  "import { createRequire } from 'module';const require = createRequire(import.meta.url);";

/**
 * Packages each bundled on their own into the asset's `node_modules`, beside the handler,
 * for code that imports them only when it needs them. The Powertools Tracer pulls in the
 * X-Ray SDK (about 125 KB, and an async hook on every promise once loaded), which only a
 * function with tracing on loads (see functions/adapters/powertools.ts).
 */
export const LAZY_MODULES = ['@aws-lambda-powertools/tracer'] as const;

/** How every handler is bundled; `bench/cold-start.ts` builds with the same options. */
export const HERALD_BUNDLING = {
  forceDockerBundling: false,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  target: 'node24',
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  banner: REQUIRE_SHIM,
  // The AWS SDK is bundled, not left to the runtime's copy: importing the runtime's SDK
  // was most of each handler's init (BENCHMARKS.md, Cold start), and a bundle loads only the
  // clients and middleware it uses, tree-shaken through the packages' ESM builds
  // (`mainFields`). Lazily loaded modules ship beside the bundle.
  externalModules: [...LAZY_MODULES],
  commandHooks: {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) =>
      LAZY_MODULES.flatMap((name) => lazyModuleCommands(inputDir, outputDir, name)),
  },
} satisfies BundlingOptions;

/** Shell commands that bundle `name` into `<outputDir>/node_modules/<name>` as one ESM file. */
function lazyModuleCommands(inputDir: string, outputDir: string, name: string): string[] {
  const dir = `${outputDir}/node_modules/${name}`;
  const esbuild = `${inputDir}/node_modules/.bin/esbuild`;
  const packageJson = JSON.stringify({ name, type: 'module', exports: './index.mjs' });
  return [
    `mkdir -p '${dir}'`,
    [
      `'${esbuild}' '${name}' --bundle --platform=node --format=esm`,
      `--target=${HERALD_BUNDLING.target} --minify --main-fields=module,main`,
      `--external:@aws-sdk/* --banner:js="${REQUIRE_SHIM}"`,
      `--outfile='${dir}/index.mjs' --log-level=warning`,
    ].join(' '),
    `echo '${packageJson}' > '${dir}/package.json'`,
  ];
}

export interface HeraldFunctionProps
  extends Omit<
    NodejsFunctionProps,
    | 'entry'
    | 'handler'
    | 'runtime'
    | 'architecture'
    | 'tracing'
    | 'logGroup'
    | 'bundling'
    | 'projectRoot'
    | 'depsLockFilePath'
  > {
  handlerName: HandlerName;
  /** POWERTOOLS_LOG_LEVEL; INFO unless given. */
  logLevel?: string;
}

/**
 * Every Herald Lambda: Node 24 (the newest Node.js runtime CDK, Powertools and the SDK
 * support) on ARM, X-Ray active, its own log group with a retention, bundled by the local
 * esbuild into minified ESM with source maps, the AWS SDK inside; the tracer ships beside
 * it (LAZY_MODULES).
 */
export class HeraldFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: HeraldFunctionProps) {
    const { handlerName, logLevel, environment, ...rest } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      // Logs follow their function: the retention bounds them, and nothing stateful lives here.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role, writing to its own log group only, instead of the managed
    // AWSLambdaBasicExecutionRole (logs:* on every group); the grants add the rest.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Herald ${handlerName} function`,
    });
    logGroup.grantWrite(role);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "X-Ray's PutTraceSegments and PutTelemetryRecords (every function) and DynamoDB's " +
        'ListStreams (a stream event source) accept no resource narrower than *',
    });
    super(scope, id, {
      memorySize: 256,
      timeout: Duration.seconds(10),
      ...rest,
      entry: join(REPO_ROOT, 'functions', 'handlers', `${handlerName}.ts`),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        POWERTOOLS_SERVICE_NAME: serviceName(handlerName),
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: logLevel ?? 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...environment,
      },
      bundling: HERALD_BUNDLING,
    });
    dropRedundantRoleDependency(this.node.defaultChild as CfnFunction, role);
    Validations.of(this).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'A function DLQ only catches asynchronous invocations; Herald functions are invoked ' +
        'synchronously (API Gateway) or by event source mappings, whose failures go to the ' +
        "queue's redrive DLQ or the stream's on-failure queue",
    });
  }
}

/**
 * The function depends on its role and the role's policy (so the policy exists before the
 * function runs); its `Role: GetAtt` already orders it after the role, and cfn-lint warns
 * about the repeated `DependsOn` (W3005). Renders the same list without the role.
 */
function dropRedundantRoleDependency(fn: CfnFunction, role: Role): void {
  const stack = Stack.of(fn);
  const roleResource = role.node.defaultChild as CfnResource;
  fn.addOverride(
    'DependsOn',
    Lazy.list({
      produce: () => {
        const ids = fn
          .obtainDependencies()
          .filter((target): target is CfnResource => target instanceof CfnResource)
          .filter((target) => target !== roleResource && Stack.of(target) === stack)
          .map((target) => stack.getLogicalId(target))
          .sort();
        return ids.length > 0 ? ids : undefined;
      },
    }),
  );
}
