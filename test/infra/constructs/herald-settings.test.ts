import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { readSettings, senderAddress } from '#infra/constructs/herald-settings';

const settingsFrom = (context: Record<string, unknown>) => readSettings(new App({ context }).node);

describe('readSettings', () => {
  it('defaults to the live stage, modest throttling, INFO logs and no account-wide role', () => {
    expect(settingsFrom({})).toEqual({
      stageName: 'live',
      throttle: { rateLimit: 100, burstLimit: 200 },
      jwt: { secretArn: undefined, jwksUrl: undefined, issuer: undefined, audience: undefined },
      emailFrom: undefined,
      logLevel: 'INFO',
      apiGatewayCloudWatchRole: false,
      emailDomain: undefined,
      eventBusName: undefined,
      eventSourceTenants: {},
    });
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
      logLevel: 'DEBUG',
      apiGatewayCloudWatchRole: true,
      jwt: {
        jwksUrl: 'https://id.example/jwks.json',
        issuer: 'https://id.example',
        audience: 'herald',
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
    [{ jwtSecretArn: 'herald/jwt' }, /Secrets Manager/],
    [{ throttleRateLimit: 'fast' }, /throttleRateLimit/],
    [{ throttleBurstLimit: '1.5' }, /throttleBurstLimit/],
    [{ throttleRateLimit: 0 }, /throttleRateLimit/],
    [{ stageName: 'a/b' }, /stageName/],
    [{ logLevel: 'LOUD' }, /logLevel/],
  ])('refuses %o at synth', (context, message) => {
    expect(() => settingsFrom(context)).toThrow(message);
  });
});

describe('senderAddress', () => {
  it('is the bare address SES compares with ses:FromAddress', () => {
    expect(senderAddress('Herald <noreply@example.com>')).toBe('noreply@example.com');
    expect(senderAddress('noreply@example.com')).toBe('noreply@example.com');
  });
});
