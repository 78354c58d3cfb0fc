/**
 * The SDK path to a connection, kept as a baseline for `SignedPostDelivery` (Herald's one
 * production path, functions/adapters/api-gateway-delivery.ts): the same posts through the
 * management API client's `PostToConnectionCommand`, configured as Herald would configure it
 * (no SDK retries, keep-alive sockets as many as posts in flight), and classified by the
 * same `classifyPostError`. Measured side by side, it costs about three times the CPU per
 * post (BENCHMARKS.md, Findings), which is why production no longer uses it.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { classifyPostError } from '#adapters/api-gateway-delivery';
import type { Delivery } from '#core/ports';

/** Pushes frames through the API Gateway management API of one stage, over the SDK client. */
export class SdkDelivery implements Delivery {
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

/**
 * The management API client for one stage's callback URL, with as many keep-alive sockets
 * as posts in flight, and no SDK retries (Herald retries per connection, with jitter).
 */
export function createManagementClient(
  callbackUrl: string,
  maxSockets: number,
): ApiGatewayManagementApiClient {
  const agentOptions = { keepAlive: true, maxSockets };
  return new ApiGatewayManagementApiClient({
    endpoint: callbackUrl,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    }),
  });
}
