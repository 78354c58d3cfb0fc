import { Agent } from 'node:http';
import {
  ApiGatewayManagementApiClient,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SignedPostDelivery } from '#adapters/api-gateway-delivery';
import { RetryableError } from '#core/errors';
import { connectionFaults } from '#local/faults/connection-faults';
import type { FaultPlan } from '#local/faults/fault-plan';
import { startWebSocketGateway, type WebSocketGateway } from '#local/gateway/websocket-gateway';
import { outcomeOf } from '#test/support/faults';
import { recordingHandlers, until } from '#test/support/gateway-harness';

const { handlers } = recordingHandlers();

const started: Array<{
  gateway: WebSocketGateway;
  sdk: ApiGatewayManagementApiClient;
  ws: WebSocket;
}> = [];

afterAll(async () => {
  for (const { gateway, sdk, ws } of started) {
    ws.terminate();
    sdk.destroy();
    await gateway.stop();
  }
});

/** A gateway with `plan`'s faults, an SDK client for its @connections API and one live client. */
async function gatewayWith(plan: FaultPlan) {
  const gateway = await startWebSocketGateway({
    port: 0,
    handlers,
    faults: connectionFaults(plan),
  });
  const sdk = new ApiGatewayManagementApiClient({
    endpoint: gateway.callbackUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const ws = new WebSocket(`${gateway.url}/?token=alice`);
  const frames: string[] = [];
  ws.on('message', (data) => frames.push(data.toString()));
  started.push({ gateway, sdk, ws });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const id = gateway.connectionIds()[0] ?? '';
  const post = (data: string) =>
    outcomeOf(sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: data })));
  return { gateway, sdk, id, frames, post };
}

describe('@connections faults', () => {
  it('throttles with 429 LimitExceededException at rate 1, posting nothing', async () => {
    const { sdk, id, frames } = await gatewayWith({ connections: { throttleRate: 1 } });
    const error = await sdk
      .send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x' }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LimitExceededException);
    expect((error as LimitExceededException).$metadata.httpStatusCode).toBe(429);
    expect(frames).toEqual([]);
  });

  it('fails with 500 at rate 1, which Herald’s own delivery treats as retryable', async () => {
    const { gateway, id, post } = await gatewayWith({ connections: { errorRate: 1 } });
    expect(await post('x')).toBe('InternalServerErrorException');
    const delivery = new SignedPostDelivery({
      callbackUrl: gateway.callbackUrl,
      region: 'us-east-1',
      credentials: async () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
      agent: new Agent({ keepAlive: false }),
    });
    await expect(delivery.post(id, 'x')).rejects.toBeInstanceOf(RetryableError);
  });

  it('holds a slow answer back slowMs, or a second when the plan gives none', () => {
    expect(connectionFaults({ connections: { slowRate: 1, slowMs: 50 } })()).toEqual({
      kind: 'slow',
      ms: 50,
    });
    expect(connectionFaults({ connections: { slowRate: 1 } })()).toEqual({
      kind: 'slow',
      ms: 1_000,
    });
  });

  it('still delivers a slow answer', async () => {
    const { post, frames } = await gatewayWith({ connections: { slowRate: 1, slowMs: 50 } });
    expect(await post('late')).toBe('ok');
    expect(
      await until(() => (frames.length > 0 ? frames : undefined), 'the slow frame', 30_000),
    ).toEqual(['late']);
  });

  it('delivers exactly the posts it did not refuse, the same ones for the same seed', async () => {
    const plan: FaultPlan = { connections: { throttleRate: 0.3, errorRate: 0.2 }, seed: 9 };
    const run = async () => {
      const { post, frames } = await gatewayWith(plan);
      const outcomes: string[] = [];
      for (let i = 0; i < 30; i++) outcomes.push(await post(String(i)));
      const accepted = outcomes.flatMap((each, i) => (each === 'ok' ? [String(i)] : []));
      await until(
        () => (frames.length >= accepted.length ? true : undefined),
        'the accepted frames',
        30_000,
      );
      expect(frames).toEqual(accepted);
      return outcomes;
    };
    const first = await run();
    expect(new Set(first)).toEqual(
      new Set(['ok', 'LimitExceededException', 'InternalServerErrorException']),
    );
    expect(await run()).toEqual(first);
  });

  it('never faults at rate 0', () => {
    const roll = connectionFaults({ connections: { throttleRate: 0, errorRate: 0, slowRate: 0 } });
    expect(Array.from({ length: 100 }, roll).filter(Boolean)).toEqual([]);
  });
});
