import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  NodejsFunction,
  type NodejsFunctionProps,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { HeraldTable } from './herald-table';

/** The entry files under `functions/handlers/`, each exporting `handler`. */
export type HandlerName =
  | 'authorizer'
  | 'connect'
  | 'disconnect'
  | 'message'
  | 'fan-out'
  | 'email'
  | 'http-api'
  | 'inbox-expiry'
  | 'ses-feedback';

/** `query`: Query alone (table and its index), for a function that only counts or lists. */
export type TableAccess = 'query' | 'read' | 'write' | 'readWrite';

/** Item-level actions only: no Scan (every access pattern is a Query or GetItem), no wildcards. */
const TABLE_ACTIONS = {
  query: ['dynamodb:Query'],
  read: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:ConditionCheckItem',
  ],
  write: [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
} as const;

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
  target: 'node22',
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  banner: REQUIRE_SHIM,
  // The runtime ships the AWS SDK; lazily loaded modules ship beside the bundle.
  externalModules: ['@aws-sdk/*', ...LAZY_MODULES],
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
 * Every Herald Lambda: Node 22 on ARM, X-Ray active, its own log group with a retention,
 * bundled by the local esbuild into minified ESM with source maps. The AWS SDK stays out
 * of the bundle because the runtime ships it; the tracer ships beside it (LAZY_MODULES).
 */
export class HeraldFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: HeraldFunctionProps) {
    const { handlerName, logLevel, environment, ...rest } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      // Logs follow their function: the retention bounds them, and nothing stateful lives here.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      memorySize: 256,
      timeout: Duration.seconds(10),
      ...rest,
      entry: join(REPO_ROOT, 'functions', 'handlers', `${handlerName}.ts`),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: `herald-${handlerName}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Herald',
        POWERTOOLS_LOG_LEVEL: logLevel ?? 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...environment,
      },
      bundling: HERALD_BUNDLING,
    });
  }

  /** Grants item-level access to the table and tells the function its name, in one step. */
  bindTable(table: HeraldTable, access: TableAccess): void {
    const actions =
      access === 'readWrite'
        ? [...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write]
        : [...TABLE_ACTIONS[access]];
    table.grants.actions(this, ...actions);
    this.addEnvironment(table.envName, table.tableName);
  }
}
