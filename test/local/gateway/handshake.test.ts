import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWebSocketGateway, type WebSocketGateway } from '#local/gateway/websocket-gateway';
import { open, recordingHandlers, refusal, terminateClients } from '#test/support/gateway-harness';

afterEach(terminateClients);

describe('WebSocket gateway handshake', () => {
  const { seen, handlers } = recordingHandlers();
  let gateway: WebSocketGateway;

  beforeAll(async () => {
    gateway = await startWebSocketGateway({ port: 0, handlers });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('answers 401 to a token the authorizer calls Unauthorized, and never runs $connect', async () => {
    const connects = seen.connect.length;
    expect(await refusal(`${gateway.url}/?token=forged`)).toBe(401);
    expect(await refusal(gateway.url)).toBe(401);
    expect(seen.connect.length).toBe(connects);
  });

  it('answers 403 to a denying policy and 500 to a failing authorizer', async () => {
    const connects = seen.connect.length;
    expect(await refusal(`${gateway.url}/?token=deny`)).toBe(403);
    expect(await refusal(`${gateway.url}/?token=crash`)).toBe(500);
    expect(seen.connect.length).toBe(connects);
  });

  it('sends the authorizer a REQUEST event for $connect with the token in the query', async () => {
    const ws = await open(`${gateway.url}/?token=alice&lang=en&lang=fr`);
    const event = seen.authorizer.at(-1);
    expect(event).toMatchObject({
      type: 'REQUEST',
      methodArn: `arn:aws:execute-api:us-east-1:000000000000:${gateway.apiId}/local/$connect`,
      queryStringParameters: { token: 'alice', lang: 'fr' },
      multiValueQueryStringParameters: { token: ['alice'], lang: ['en', 'fr'] },
      stageVariables: {},
      requestContext: {
        routeKey: '$connect',
        eventType: 'CONNECT',
        stage: 'local',
        apiId: gateway.apiId,
        identity: { sourceIp: '127.0.0.1' },
      },
    });
    expect(event?.headers).toMatchObject({
      Host: `127.0.0.1:${gateway.port}`,
      'X-Forwarded-For': '127.0.0.1',
      'Sec-WebSocket-Version': '13',
    });
    expect(event?.requestContext.connectionId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    ws.close();
  });

  it('runs $connect with the authorizer context and principalId, then opens the socket', async () => {
    const ws = await open(`${gateway.url}/?token=alice`);
    const authorized = seen.authorizer.at(-1);
    const event = seen.connect.at(-1);
    expect(event?.requestContext).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      connectionId: authorized?.requestContext.connectionId,
      authorizer: {
        principalId: 'alice',
        userId: 'alice',
        tenant: 'acme',
        admin: 'true',
        level: '3',
        integrationLatency: expect.any(Number),
      },
    });
    expect(event?.queryStringParameters).toEqual({ token: 'alice' });
    expect(event?.isBase64Encoded).toBe(false);
    expect(gateway.connectionIds()).toContain(event?.requestContext.connectionId);
    ws.close();
  });

  it('refuses the upgrade with the status $connect returns, and 502 when it throws', async () => {
    expect(await refusal(`${gateway.url}/?token=alice&connect=403`)).toBe(403);
    expect(await refusal(`${gateway.url}/?token=alice&connect=throw`)).toBe(502);
  });

  it('accepts the stage path as AWS does, and refuses other paths before any handler', async () => {
    const ws = await open(`${gateway.url}/local?token=alice`);
    ws.close();
    const authorizations = seen.authorizer.length;
    expect(await refusal(`${gateway.url}/elsewhere?token=alice`)).toBe(403);
    expect(seen.authorizer.length).toBe(authorizations);
  });

  it('agrees on a subprotocol only when $connect names it', async () => {
    const ws = await open(`${gateway.url}/?token=alice&protocol=herald.v1`, ['herald.v1']);
    expect(ws.protocol).toBe('herald.v1');
    ws.close();
    await expect(open(`${gateway.url}/?token=alice`, ['herald.v1'])).rejects.toThrow(/subprotocol/);
  });
});
