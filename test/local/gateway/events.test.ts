import { describe, expect, it } from 'vitest';
import {
  apiIdLike,
  awsId,
  type ConnectionScope,
  connectEvent,
  disconnectEvent,
  formatRequestTime,
  type Handshake,
  messageEvent,
  methodArn,
} from '#local/gateway/events';

const scope: ConnectionScope = {
  apiId: 'abcdef1234',
  stage: 'local',
  connectionId: 'L0SM9cOFvHcCIhw=',
  connectedAt: 1_707_502_303_419,
  domainName: 'localhost:3001',
  identity: { sourceIp: '127.0.0.1' },
  authorizer: { principalId: 'alice', integrationLatency: 3, tenant: 'acme' },
};

const handshake: Handshake = {
  headers: { Host: 'localhost:3001' },
  multiValueHeaders: { Host: ['localhost:3001'] },
  query: {},
  multiValueQuery: {},
  identity: { sourceIp: '127.0.0.1' },
  domainName: 'localhost:3001',
};

describe('gateway events', () => {
  it('makes ids shaped like API Gateway ids', () => {
    expect(awsId()).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(awsId()).not.toBe(awsId());
    expect(apiIdLike()).toMatch(/^[a-z0-9]{10}$/);
    expect(methodArn('abcdef1234', 'local')).toBe(
      'arn:aws:execute-api:us-east-1:000000000000:abcdef1234/local/$connect',
    );
  });

  it('writes requestTime as API Gateway does', () => {
    expect(formatRequestTime(Date.UTC(2024, 1, 9, 18, 11, 43))).toBe('09/Feb/2024:18:11:43 +0000');
  });

  it('leaves the query keys out of $connect when the URL has none', () => {
    const event = connectEvent(scope, handshake, scope.connectedAt + 1);
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event.requestContext).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      messageDirection: 'IN',
      connectedAt: scope.connectedAt,
      requestTimeEpoch: scope.connectedAt + 1,
      authorizer: scope.authorizer,
    });
    expect(event.requestContext.extendedRequestId).toBe(event.requestContext.requestId);
    expect(event.requestContext).not.toHaveProperty('messageId');
  });

  it('gives each message its own messageId and request id', () => {
    const first = messageEvent(scope, 'a', 1);
    const second = messageEvent(scope, 'b', 2);
    expect(first.requestContext.messageId).toMatch(/=$/);
    expect(first.requestContext.messageId).not.toBe(second.requestContext.messageId);
    expect(first.requestContext.requestId).not.toBe(second.requestContext.requestId);
    expect(first).not.toHaveProperty('headers');
  });

  it('sends $disconnect the four headers AWS sends and the close code and reason', () => {
    const event = disconnectEvent(scope, { code: 1001, reason: 'Going away' }, 5);
    expect(event.headers).toEqual({
      Host: 'localhost:3001',
      'x-api-key': '',
      'X-Forwarded-For': '',
      'x-restapi': '',
    });
    expect(event.multiValueHeaders?.Host).toEqual(['localhost:3001']);
    expect(event.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      disconnectStatusCode: 1001,
      disconnectReason: 'Going away',
    });
  });
});
