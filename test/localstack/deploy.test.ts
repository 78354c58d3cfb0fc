import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '#local/dev-token';
import {
  CDKLOCAL_VERSION,
  type DeployOptions,
  deployOptions,
  deployPlan,
  formatOutputs,
  JWT_SECRET_NAME,
  OUTPUTS_FILE,
  putJwtSecret,
  STACKS,
} from '#localstack/deploy';

const community: DeployOptions = deployOptions([], {});

/** The value after `-c` that starts with `key=`. */
function context(args: string[], key: string): string | undefined {
  const index = args.findIndex((arg, at) => args[at - 1] === '-c' && arg.startsWith(`${key}=`));
  return index === -1 ? undefined : args[index]?.slice(key.length + 1);
}

describe('deployOptions', () => {
  it('deploys to the community LocalStack on localhost by default', () => {
    expect(community).toEqual({
      endpoint: 'http://localhost:4566',
      s3Endpoint: 'http://s3.localhost.localstack.cloud:4566',
      pro: false,
      emailFrom: 'herald@localhost',
      jwt: { secret: expect.any(String), generated: true },
    });
  });

  it('generates a random secret of 32+ bytes rather than deploying the public dev one', () => {
    const first = deployOptions([], {}).jwt;
    const second = deployOptions([], {}).jwt;
    if (!('secret' in first) || !('secret' in second)) throw new Error('expected secrets');
    expect(Buffer.byteLength(first.secret)).toBeGreaterThanOrEqual(32);
    expect(first.secret).not.toBe(second.secret);
    expect(first.secret).not.toBe(DEV_JWT_SECRET);
    expect(() => deployOptions([], { HERALD_JWT_SECRET: DEV_JWT_SECRET })).toThrow(/public dev/);
    expect(() => deployOptions([], { HERALD_JWT_SECRET: 'short' })).toThrow(/32 bytes/);
  });

  it('needs an audience with JWKS, and passes it through as context', () => {
    const jwksUrl = 'https://issuer.example/.well-known/jwks.json';
    expect(() => deployOptions([], { HERALD_JWKS_URL: jwksUrl })).toThrow(/HERALD_JWT_AUDIENCE/);
    const options = deployOptions(['--pro'], {
      HERALD_JWKS_URL: jwksUrl,
      HERALD_JWT_AUDIENCE: 'herald',
    });
    expect(context(deployPlan(options).deploy, 'jwtAudience')).toBe('herald');
  });

  it('turns Pro on with --pro or LOCALSTACK_PRO=1, and off with --community', () => {
    expect(deployOptions(['--pro'], {}).pro).toBe(true);
    expect(deployOptions([], { LOCALSTACK_PRO: '1' }).pro).toBe(true);
    expect(deployOptions([], { LOCALSTACK_PRO: 'true' }).pro).toBe(true);
    expect(deployOptions([], { LOCALSTACK_PRO: '0' }).pro).toBe(false);
    expect(deployOptions(['--community'], { LOCALSTACK_PRO: '1' }).pro).toBe(false);
    expect(() => deployOptions(['--pro', '--community'], {})).toThrow(/not both/);
    expect(() => deployOptions([], { LOCALSTACK_PRO: 'maybe' })).toThrow(/LOCALSTACK_PRO/);
    expect(() => deployOptions(['--prod'], {})).toThrow();
  });

  it('takes the endpoint, the sender and the token settings from the environment', () => {
    const options = deployOptions([], {
      LOCALSTACK_ENDPOINT: 'http://127.0.0.1:4600',
      HERALD_EMAIL_FROM: 'Herald <noreply@example.com>',
      HERALD_JWT_SECRET: 'a-secret-that-is-long-enough-for-hs256-tokens',
    });
    expect(options.endpoint).toBe('http://127.0.0.1:4600');
    expect(options.s3Endpoint).toBe('http://s3.localhost.localstack.cloud:4600');
    expect(options.emailFrom).toBe('Herald <noreply@example.com>');
    expect(options.jwt).toEqual({
      secret: 'a-secret-that-is-long-enough-for-hs256-tokens',
      generated: false,
    });
    expect(
      deployOptions([], {
        HERALD_JWKS_URL: 'https://issuer.example/.well-known/jwks.json',
        HERALD_JWT_AUDIENCE: 'herald',
      }).jwt,
    ).toEqual({ jwksUrl: 'https://issuer.example/.well-known/jwks.json', audience: 'herald' });
  });

  it('needs AWS_ENDPOINT_URL_S3 for a LocalStack on another machine', () => {
    expect(() => deployOptions([], { LOCALSTACK_ENDPOINT: 'http://ls.internal:4566' })).toThrow(
      /AWS_ENDPOINT_URL_S3/,
    );
    const options = deployOptions([], {
      LOCALSTACK_ENDPOINT: 'http://ls.internal:4566',
      AWS_ENDPOINT_URL_S3: 'http://s3.ls.internal:4566',
    });
    expect(options.s3Endpoint).toBe('http://s3.ls.internal:4566');
  });
});

describe('deployPlan', () => {
  it('runs the pinned cdklocal, never an unpinned one', () => {
    expect(CDKLOCAL_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    const plan = deployPlan(community);
    for (const args of [plan.bootstrap, plan.deploy]) {
      expect(args.slice(0, 2)).toEqual(['--yes', `aws-cdk-local@${CDKLOCAL_VERSION}`]);
    }
  });

  it('bootstraps LocalStack’s default account in us-east-1', () => {
    expect(deployPlan(community).bootstrap.slice(2)).toEqual([
      'bootstrap',
      'aws://000000000000/us-east-1',
    ]);
  });

  it('deploys HeraldData alone on community, with no app context', () => {
    const { deploy } = deployPlan(community);
    expect(deploy.slice(2)).toEqual([
      'deploy',
      STACKS.data,
      '--require-approval',
      'never',
      '--outputs-file',
      OUTPUTS_FILE,
    ]);
    expect(deploy).not.toContain(STACKS.app);
  });

  it('deploys both stacks on Pro, with the secret ARN and the sender as context', () => {
    const pro = { ...community, pro: true, emailFrom: 'Herald <noreply@example.com>' };
    const arn =
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:herald/localstack/jwt-secret-AbCdEf';
    const { deploy } = deployPlan(pro, { jwtSecretArn: arn });
    expect(deploy.slice(2, 5)).toEqual(['deploy', 'HeraldData', 'HeraldApp']);
    expect(context(deploy, 'jwtSecretArn')).toBe(arn);
    expect(context(deploy, 'emailFrom')).toBe('Herald <noreply@example.com>');
    // The secret itself never reaches a command line.
    if ('secret' in pro.jwt) expect(deploy.join(' ')).not.toContain(pro.jwt.secret);

    expect(() => deployPlan(pro)).toThrow(/ARN is missing/);
    const jwks = deployPlan({ ...pro, jwt: { jwksUrl: 'https://issuer.example/jwks.json' } });
    expect(context(jwks.deploy, 'jwksUrl')).toBe('https://issuer.example/jwks.json');
    expect(context(jwks.deploy, 'jwtSecretArn')).toBeUndefined();
  });

  it('aims cdklocal at LocalStack with dummy credentials and the project’s aws-cdk', () => {
    const { env } = deployPlan(community, {}, { NODE_PATH: '/elsewhere' });
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: 'http://localhost:4566',
      AWS_ENDPOINT_URL_S3: 'http://s3.localhost.localstack.cloud:4566',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    expect(env.AWS_ENVAR_ALLOWLIST?.split(',')).toEqual(
      expect.arrayContaining(['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']),
    );
    const repoModules = join(fileURLToPath(new URL('../../', import.meta.url)), 'node_modules');
    expect(env.NODE_PATH?.split(delimiter)).toEqual([repoModules, '/elsewhere']);
  });
});

describe('putJwtSecret', () => {
  const secrets = mockClient(SecretsManagerClient);
  afterEach(() => secrets.reset());
  const arn =
    'arn:aws:secretsmanager:us-east-1:000000000000:secret:herald/localstack/jwt-secret-AbCdEf';

  it('creates the secret the first time', async () => {
    secrets.on(CreateSecretCommand).resolves({ ARN: arn });
    expect(await putJwtSecret('http://localhost:4566', 'the-secret')).toBe(arn);
    expect(secrets.commandCalls(CreateSecretCommand)[0]?.args[0].input).toMatchObject({
      Name: JWT_SECRET_NAME,
      SecretString: 'the-secret',
    });
  });

  it('updates its value when it exists already', async () => {
    secrets
      .on(CreateSecretCommand)
      .rejects(new ResourceExistsException({ message: 'exists', $metadata: {} }));
    secrets.on(PutSecretValueCommand).resolves({ ARN: arn });
    expect(await putJwtSecret('http://localhost:4566', 'new-secret')).toBe(arn);
    expect(secrets.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: JWT_SECRET_NAME,
      SecretString: 'new-secret',
    });
  });
});

describe('formatOutputs', () => {
  it('lists every stack output as Stack.Key = value', () => {
    const text = formatOutputs({
      HeraldData: { TopicArn: 'arn:aws:sns:us-east-1:000000000000:HeraldData-Topic' },
      HeraldApp: { WebSocketUrl: 'wss://abc.execute-api.us-east-1.amazonaws.com/live' },
    });
    expect(text.split('\n')).toEqual([
      '  HeraldData.TopicArn = arn:aws:sns:us-east-1:000000000000:HeraldData-Topic',
      '  HeraldApp.WebSocketUrl = wss://abc.execute-api.us-east-1.amazonaws.com/live',
    ]);
    expect(formatOutputs(null)).toBe('');
  });
});
