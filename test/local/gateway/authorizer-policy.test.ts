import { describe, expect, it } from 'vitest';
import { judgeAuthorizerResult } from '#local/gateway/authorizer-policy';

const ARN = 'arn:aws:execute-api:us-east-1:000000000000:abcdef1234/local/$connect';

function policy(effect: string, resource: unknown, action: unknown = 'execute-api:Invoke') {
  return {
    Version: '2012-10-17',
    Statement: [{ Action: action, Effect: effect, Resource: resource }],
  };
}

describe('judgeAuthorizerResult', () => {
  it('allows on a matching Allow and stringifies the context, as API Gateway does', () => {
    const verdict = judgeAuthorizerResult(
      {
        principalId: 'alice',
        policyDocument: policy('Allow', ARN),
        context: { tenant: 'acme', level: 3, admin: true },
      },
      ARN,
      12,
    );
    expect(verdict).toEqual({
      kind: 'allow',
      authorizer: {
        tenant: 'acme',
        level: '3',
        admin: 'true',
        principalId: 'alice',
        integrationLatency: 12,
      },
    });
  });

  it('matches IAM wildcards in resources and actions, and a single Statement object', () => {
    const wildcard = {
      principalId: 'a',
      policyDocument: policy('Allow', 'arn:aws:execute-api:*:*:abcdef1234/*'),
    };
    expect(judgeAuthorizerResult(wildcard, ARN, 0).kind).toBe('allow');

    const anyAction = { principalId: 'a', policyDocument: policy('Allow', [ARN], 'execute-api:*') };
    expect(judgeAuthorizerResult(anyAction, ARN, 0).kind).toBe('allow');

    const single = {
      principalId: 'a',
      policyDocument: {
        Version: '2012-10-17',
        Statement: { Action: '*', Effect: 'Allow', Resource: '*' },
      },
    };
    expect(judgeAuthorizerResult(single, ARN, 0).kind).toBe('allow');
  });

  it('denies on an explicit Deny even when another statement allows', () => {
    const result = {
      principalId: 'a',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' },
          { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: ARN },
        ],
      },
    };
    expect(judgeAuthorizerResult(result, ARN, 0)).toEqual({ kind: 'deny' });
  });

  it('denies when no statement allows this method ARN', () => {
    const otherStage = policy(
      'Allow',
      'arn:aws:execute-api:us-east-1:000000000000:abcdef1234/prod/$connect',
    );
    expect(judgeAuthorizerResult({ principalId: 'a', policyDocument: otherStage }, ARN, 0)).toEqual(
      {
        kind: 'deny',
      },
    );
    const otherAction = policy('Allow', ARN, 'execute-api:ManageConnections');
    expect(
      judgeAuthorizerResult({ principalId: 'a', policyDocument: otherAction }, ARN, 0),
    ).toEqual({
      kind: 'deny',
    });
  });

  it('calls a malformed result invalid (a 500 at the handshake)', () => {
    const allow = policy('Allow', ARN);
    expect(judgeAuthorizerResult(undefined, ARN, 0).kind).toBe('invalid');
    expect(judgeAuthorizerResult({ policyDocument: allow }, ARN, 0).kind).toBe('invalid');
    expect(judgeAuthorizerResult({ principalId: 'a' }, ARN, 0).kind).toBe('invalid');
    const nested = { principalId: 'a', policyDocument: allow, context: { claims: { sub: 'a' } } };
    expect(judgeAuthorizerResult(nested, ARN, 0)).toMatchObject({ kind: 'invalid' });
    const huge = { principalId: 'a', policyDocument: allow, context: { blob: 'x'.repeat(9000) } };
    expect(judgeAuthorizerResult(huge, ARN, 0)).toMatchObject({ kind: 'invalid' });
  });
});
