import {
  ApiGatewayManagementApiClient,
  ForbiddenException,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createManagementClient, SdkDelivery } from '#bench/sdk-delivery';
import { ConnectionGoneError, RetryableError } from '#core/errors';

const management = mockClient(ApiGatewayManagementApiClient);
const delivery = new SdkDelivery(
  new ApiGatewayManagementApiClient({
    region: 'us-east-1',
    endpoint: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
  }),
);

/** What `post` throws when the SDK call fails with `error`. */
async function failureFor(error: unknown): Promise<unknown> {
  management.on(PostToConnectionCommand).callsFake(() => {
    throw error;
  });
  try {
    await delivery.post('conn-1', '{"type":"pong"}');
  } catch (thrown) {
    return thrown;
  }
  throw new Error('expected post to fail');
}

beforeEach(() => management.reset());
afterAll(() => management.restore());

describe('SdkDelivery.post', () => {
  it('sends PostToConnection with the connection id and the frame bytes', async () => {
    management.on(PostToConnectionCommand).resolves({});
    await delivery.post('conn-1', '{"type":"notification"}');
    const calls = management.commandCalls(PostToConnectionCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.ConnectionId).toBe('conn-1');
    expect(Buffer.from(input?.Data as Uint8Array).toString('utf8')).toBe('{"type":"notification"}');
  });

  it('turns the SDK GoneException into ConnectionGoneError for that connection', async () => {
    const gone = new GoneException({
      message: 'Gone',
      $metadata: { httpStatusCode: 410, requestId: 'req-1' },
    });
    const thrown = await failureFor(gone);
    expect(thrown).toBeInstanceOf(ConnectionGoneError);
    expect((thrown as ConnectionGoneError).connectionId).toBe('conn-1');
    expect((thrown as ConnectionGoneError).cause).toBe(gone);
  });

  // Every other shape of error is classifyPostError's, tested with it in
  // test/functions/adapters/api-gateway-delivery.test.ts; these show the SDK path uses it.
  it('makes a LimitExceededException a RetryableError keeping the cause', async () => {
    const error = new LimitExceededException({
      message: 'Limit',
      $metadata: { httpStatusCode: 429 },
    });
    const thrown = await failureFor(error);
    expect(thrown).toBeInstanceOf(RetryableError);
    expect((thrown as RetryableError).cause).toBe(error);
    expect((thrown as RetryableError).message).toContain('conn-1');
  });

  it('rethrows a 403 ForbiddenException as it is', async () => {
    const forbidden = new ForbiddenException({
      message: 'Forbidden',
      $metadata: { httpStatusCode: 403 },
    });
    const thrown = await failureFor(forbidden);
    expect(thrown).toBe(forbidden);
  });
});

describe('createManagementClient', () => {
  it('points the client at the callback URL and leaves retries to Herald', async () => {
    const client = createManagementClient(
      'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
      8,
    );
    const endpoint = await client.config.endpoint?.();
    expect(endpoint?.hostname).toBe('abc123.execute-api.us-east-1.amazonaws.com');
    expect(endpoint?.path).toBe('/prod');
    expect(await client.config.maxAttempts()).toBe(1);
  });
});
