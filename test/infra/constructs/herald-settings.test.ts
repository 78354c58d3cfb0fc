import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { emailConcurrency, readSettings, senderAddress } from '#infra/constructs/herald-settings';

const settingsFrom = (context: Record<string, unknown>) => readSettings(new App({ context }).node);

describe('readSettings', () => {
  it('defaults to the live stage, modest throttling, INFO logs and the account-wide role', () => {
    expect(settingsFrom({})).toEqual({
      stageName: 'live',
      throttle: { rateLimit: 100, burstLimit: 200 },
      connectThrottle: { rateLimit: 20, burstLimit: 40 },
      jwt: {
        secretArn: undefined,
        jwksUrl: undefined,
        issuer: undefined,
        audience: undefined,
        typ: undefined,
      },
      emailFrom: undefined,
      logLevel: 'INFO',
      apiGatewayCloudWatchRole: true,
      publisherPrincipals: [],
      fanOutMaxConcurrency: 100,
      sesSendRate: 14,
      alarmEmail: undefined,
      emailDomain: undefined,
      eventBusName: undefined,
      eventSourceTenants: {},
    });
  });

  it('reads publisherPrincipals as a list or a comma-separated string', () => {
    const role = 'arn:aws:iam::210987654321:role/billing-publisher';
    expect(
      settingsFrom({ publisherPrincipals: ['123456789012', role] }).publisherPrincipals,
    ).toEqual(['123456789012', role]);
    expect(
      settingsFrom({ publisherPrincipals: ` 123456789012 ,${role},123456789012` })
        .publisherPrincipals,
    ).toEqual(['123456789012', role]);
  });

  it.each([
    '*',
    '12345',
    'arn:aws:iam::123456789012:user/alice',
    'arn:aws:sts::123456789012:assumed-role/x/y',
  ])('refuses publisherPrincipals %s at synth', (principal) => {
    expect(() => settingsFrom({ publisherPrincipals: principal })).toThrow(
      /publisherPrincipals: .* neither a 12-digit account id nor an IAM role ARN/,
    );
  });

  it('lets the account-wide role be turned off, and reads the concurrency and alarm settings', () => {
    expect(
      settingsFrom({
        apiGatewayCloudWatchRole: 'false',
        fanOutMaxConcurrency: '40',
        sesSendRate: '50',
        alarmEmail: 'ops@example.com',
      }),
    ).toMatchObject({
      apiGatewayCloudWatchRole: false,
      fanOutMaxConcurrency: 40,
      sesSendRate: 50,
      alarmEmail: 'ops@example.com',
    });
    expect(settingsFrom({ apiGatewayCloudWatchRole: false }).apiGatewayCloudWatchRole).toBe(false);
  });

  it('reads the EventBridge bus and source bindings, as JSON text from -c too', () => {
    expect(
      settingsFrom({ eventBusName: 'orders', eventSourceTenants: '{"com.acme.billing":"acme"}' }),
    ).toMatchObject({ eventBusName: 'orders', eventSourceTenants: { 'com.acme.billing': 'acme' } });
    expect(() => settingsFrom({ eventSourceTenants: { 'herald.acme': 'acme' } })).toThrow(
      /eventSourceTenants: "herald\.acme" starts with "herald\."/,
    );
    expect(() => settingsFrom({ eventBusName: 'no spaces' })).toThrow(/eventBusName/);
  });

  it('reads CLI strings (-c key=value) as numbers and flags', () => {
    const settings = settingsFrom({
      stageName: 'beta',
      throttleRateLimit: '2.5',
      throttleBurstLimit: '10',
      connectThrottleRateLimit: '1.5',
      connectThrottleBurstLimit: '3',
      jwtTyp: 'at+jwt',
      logLevel: 'debug',
      apiGatewayCloudWatchRole: 'true',
      jwksUrl: 'https://id.example/jwks.json',
      jwtIssuer: 'https://id.example',
      jwtAudience: 'herald',
      emailFrom: 'Herald <noreply@example.com>',
    });
    expect(settings).toMatchObject({
      stageName: 'beta',
      throttle: { rateLimit: 2.5, burstLimit: 10 },
      connectThrottle: { rateLimit: 1.5, burstLimit: 3 },
      logLevel: 'DEBUG',
      apiGatewayCloudWatchRole: true,
      jwt: {
        jwksUrl: 'https://id.example/jwks.json',
        issuer: 'https://id.example',
        audience: 'herald',
        typ: 'at+jwt',
      },
      emailFrom: 'Herald <noreply@example.com>',
    });
  });

  it.each([
    [
      {
        jwksUrl: 'https://a.example/jwks',
        jwtSecretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:x',
      },
      /not both/,
    ],
    [{ jwksUrl: 'http://a.example/jwks' }, /https/],
    // Without an audience, any token the identity provider signs for any app would do.
    [{ jwksUrl: 'https://a.example/jwks' }, /jwksUrl needs jwtAudience/],
    [{ connectThrottleRateLimit: '-1' }, /connectThrottleRateLimit/],
    [{ connectThrottleBurstLimit: '2.5' }, /connectThrottleBurstLimit/],
    [{ jwtSecretArn: 'herald/jwt' }, /Secrets Manager/],
    [{ throttleRateLimit: 'fast' }, /throttleRateLimit/],
    [{ throttleBurstLimit: '1.5' }, /throttleBurstLimit/],
    [{ throttleRateLimit: 0 }, /throttleRateLimit/],
    [{ stageName: 'a/b' }, /stageName/],
    [{ logLevel: 'LOUD' }, /logLevel/],
    [{ apiGatewayCloudWatchRole: 'no' }, /apiGatewayCloudWatchRole/],
    [{ fanOutMaxConcurrency: '1' }, /fanOutMaxConcurrency/],
    [{ fanOutMaxConcurrency: 1001 }, /fanOutMaxConcurrency/],
    [{ fanOutMaxConcurrency: '2.5' }, /fanOutMaxConcurrency/],
    [{ sesSendRate: '0' }, /sesSendRate/],
    [{ alarmEmail: 'ops' }, /alarmEmail/],
  ])('refuses %o at synth', (context, message) => {
    expect(() => settingsFrom(context)).toThrow(message);
  });
});

describe('emailConcurrency', () => {
  it('runs two consumers (Lambda’s minimum) at the default SES rate, sharing it', () => {
    expect(emailConcurrency(14)).toEqual({ maxConcurrency: 2, sendRatePerConsumer: 7 });
    expect(emailConcurrency(1)).toEqual({ maxConcurrency: 2, sendRatePerConsumer: 1 });
  });

  it('adds consumers as the rate grows, never outrunning SES together', () => {
    for (const rate of [14, 35, 100, 999, 50_000]) {
      const { maxConcurrency, sendRatePerConsumer } = emailConcurrency(rate);
      expect(maxConcurrency).toBeGreaterThanOrEqual(2);
      expect(maxConcurrency).toBeLessThanOrEqual(1000);
      expect(maxConcurrency * sendRatePerConsumer).toBeLessThanOrEqual(rate);
    }
    expect(emailConcurrency(100).maxConcurrency).toBe(10);
  });
});

describe('senderAddress', () => {
  it('is the bare address SES compares with ses:FromAddress', () => {
    expect(senderAddress('Herald <noreply@example.com>')).toBe('noreply@example.com');
    expect(senderAddress('noreply@example.com')).toBe('noreply@example.com');
  });
});
