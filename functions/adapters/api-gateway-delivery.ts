import {
  type ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { ConnectionGoneError, RetryableError } from '../core/errors';
import type { Delivery } from '../core/ports';

/** Node's network errors worth another try: the request may never have reached AWS. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);
const RETRYABLE_NAMES = new Set([
  'LimitExceededException',
  'ThrottlingException',
  'TooManyRequestsException',
  'InternalServerErrorException',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
]);

/**
 * Pushes frames through the API Gateway management API of one stage. SDK v3 errors carry
 * the HTTP status in `$metadata.httpStatusCode` and the type in `name` (`statusCode` is
 * always undefined), so classification reads those.
 */
export class ApiGatewayDelivery implements Delivery {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async post(connectionId: string, data: string): Promise<void> {
    try {
      await this.client.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(data) }),
      );
    } catch (error) {
      throw classifyPostError(connectionId, error);
    }
  }
}

export function classifyPostError(connectionId: string, error: unknown): unknown {
  const { name, code, $metadata } = (error ?? {}) as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = $metadata?.httpStatusCode;
  if (name === 'GoneException' || status === 410) {
    return new ConnectionGoneError(connectionId, { cause: error });
  }
  if (
    (name !== undefined && RETRYABLE_NAMES.has(name)) ||
    (code !== undefined && TRANSIENT_CODES.has(code)) ||
    status === 429 ||
    (status !== undefined && status >= 500)
  ) {
    return new RetryableError(`post to ${connectionId} failed: ${name ?? code ?? status}`, {
      cause: error,
    });
  }
  return error;
}
