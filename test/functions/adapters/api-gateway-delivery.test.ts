import {
  ApiGatewayManagementApiClient,
  ForbiddenException,
  GoneException,
  LimitExceededException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiGatewayDelivery,
  classifyPostError,
} from '../../../functions/adapters/api-gateway-delivery';
import { ConnectionGoneError, RetryableError } from '../../../functions/core/errors';

const management = mockClient(ApiGatewayManagementApiClient);
const delivery = new ApiGatewayDelivery(
  new ApiGatewayManagementApiClient({
    region: 'us-east-1',
    endpoint: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
  }),
);

/** An SDK v3 service error as the deserializer builds it: `name` and `$metadata`. */
function sdkError(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(`${name} from the service`), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 },
  });
}

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

describe('ApiGatewayDelivery.post', () => {
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

  it('treats a GoneException by name alone as gone (no status read)', async () => {
    const gone = new GoneException({ message: 'Gone', $metadata: {} });
    expect(await failureFor(gone)).toBeInstanceOf(ConnectionGoneError);
  });

  it('treats a bare error with $metadata.httpStatusCode 410 as gone', async () => {
    const bare = Object.assign(new Error('UnknownError'), { $metadata: { httpStatusCode: 410 } });
    expect(await failureFor(bare)).toBeInstanceOf(ConnectionGoneError);
  });

  it('does NOT treat `statusCode: 410` without $metadata as gone (the AWS samples trap)', async () => {
    const v2Shaped = Object.assign(new Error('Gone'), { statusCode: 410 });
    const thrown = await failureFor(v2Shaped);
    expect(thrown).toBe(v2Shaped);
    expect(thrown).not.toBeInstanceOf(ConnectionGoneError);
    expect(classifyPostError('c', { statusCode: 410 })).not.toBeInstanceOf(ConnectionGoneError);
  });

  it.each([
    [
      'LimitExceededException',
      () => new LimitExceededException({ message: 'Limit', $metadata: { httpStatusCode: 429 } }),
    ],
    ['a bare 429', () => sdkError('TooManyRequests', 429)],
    ['a 500', () => sdkError('InternalServerError', 500)],
    ['a 503', () => sdkError('ServiceUnavailable', 503)],
    [
      'a 502 without a name',
      () => Object.assign(new Error(), { name: undefined, $metadata: { httpStatusCode: 502 } }),
    ],
    ['ECONNRESET', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['ETIMEDOUT', () => Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })],
    ['a ThrottlingException', () => sdkError('ThrottlingException', 400)],
  ])('makes %s a RetryableError keeping the cause', async (_what, make) => {
    const error = make();
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

  it('rethrows other client errors (413 PayloadTooLarge) as they are', async () => {
    const tooLarge = new PayloadTooLargeException({
      message: 'Too large',
      $metadata: { httpStatusCode: 413 },
    });
    expect(await failureFor(tooLarge)).toBe(tooLarge);
  });

  it('passes odd throwables through unchanged', () => {
    expect(classifyPostError('c', undefined)).toBeUndefined();
    expect(classifyPostError('c', 'text')).toBe('text');
  });
});
