import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { createSignedPostDelivery, dynamoDocumentClient } from '#adapters/aws-clients';
import { DynamoChangeLog } from '#adapters/dynamo-change-log';
import { DynamoConnectionLifetimes } from '#adapters/dynamo-connection-lifetimes';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoFrameBudget } from '#adapters/dynamo-frame-budget';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import { DynamoReplaySource } from '#adapters/dynamo-replay-source';
import { verifierFromConfig } from '#adapters/jwt-verifier';
import { logger } from '#adapters/powertools';
import { authConfig } from '#config/auth-config';
import {
  frameRateSettings,
  messageLimits,
  requireEnv,
  resumeLookbackSeconds,
  retentionSeconds,
  wiredOnFirstCall,
} from '#config/config';
import { ENV } from '#config/env-names';
import { TOPOLOGY } from '#config/topology';
import { createFrameGate, DEFAULT_FRAME_RATE } from '#core/frame-rate';
import { encodeFrame } from '#core/frames';
import { createInboxService, DEFAULT_INBOX_SETTINGS } from '#core/inbox';
import { createLimiter } from '#core/limiter';
import { createMessageHandler, DEFAULT_MESSAGE_LIMITS, type MessageDeps } from '#core/messages';
import { systemClock } from '#core/ports';
import { createPresence, DEFAULT_PRESENCE_SETTINGS } from '#core/presence';
import { createReplay, DEFAULT_REPLAY_SETTINGS } from '#core/replay';
import { createChangeReport } from '#core/resume-changes';
import { createTokenRefresh } from '#core/token-refresh';
import { callerOf, type WebSocketEvent } from './websocket-event';

/**
 * `$default`: every client frame. The reply goes back through the route response, so it
 * costs no management API call; the socket stays open whatever the frame held. Replayed
 * notifications and `state` pushes go through the management API before that reply.
 */
export function makeHandler(deps: MessageDeps) {
  const handleMessage = createMessageHandler(deps);
  return async (event: WebSocketEvent): Promise<APIGatewayProxyResultV2> => {
    const caller = callerOf(event);
    const body = event.isBase64Encoded
      ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
      : event.body;
    const { frame, error } = await handleMessage(body, caller);
    if (error !== undefined) {
      logger.error('message failed', { connectionId: caller.connectionId, error });
    }
    return { statusCode: 200, body: encodeFrame(frame) };
  };
}

/** Posts in flight per invocation: `state` pushes to a user's devices; a replay uses one. */
const POST_CONCURRENCY = DEFAULT_INBOX_SETTINGS.concurrency;

/** A push reaches its connections within the fan-out invocation that filed it. */
const DELIVERY_MARGIN_SECONDS = 2 * TOPOLOGY.consumerTimeoutSeconds;

export const handler = wiredOnFirstCall(() => {
  const doc = dynamoDocumentClient();
  const notificationsTable = requireEnv(ENV.notificationsTable);
  const connectionsTable = requireEnv(ENV.connectionsTable);
  const connections = new DynamoConnectionStore(doc, connectionsTable);
  const delivery = createSignedPostDelivery(requireEnv(ENV.callbackUrl), POST_CONCURRENCY);
  return makeHandler({
    connections,
    limits: messageLimits(DEFAULT_MESSAGE_LIMITS),
    // The same verifier and settings as the `$connect` authorizer.
    refresh: createTokenRefresh({
      verifier: verifierFromConfig(authConfig()),
      lifetimes: new DynamoConnectionLifetimes(doc, connectionsTable),
    }),
    frameGate: createFrameGate({
      budget: new DynamoFrameBudget(doc, connectionsTable),
      disconnector: delivery,
      clock: systemClock,
      settings: frameRateSettings(DEFAULT_FRAME_RATE),
    }),
    replay: createReplay({
      source: new DynamoReplaySource(doc, notificationsTable),
      delivery,
      clock: systemClock,
      settings: {
        ...DEFAULT_REPLAY_SETTINGS,
        retentionSeconds: retentionSeconds(),
        lookbackSeconds: resumeLookbackSeconds(),
        deliveryMarginSeconds: DELIVERY_MARGIN_SECONDS,
      },
    }),
    changes: createChangeReport({
      changes: new DynamoChangeLog(doc, notificationsTable),
      settings: {
        marginMs: DELIVERY_MARGIN_SECONDS * 1000,
        concurrency: DEFAULT_REPLAY_SETTINGS.sourceConcurrency,
      },
    }),
    presence: createPresence({
      connections,
      delivery,
      clock: systemClock,
      settings: DEFAULT_PRESENCE_SETTINGS,
    }),
    inbox: createInboxService({
      inbox: new DynamoOwnerInbox(doc, notificationsTable),
      connections,
      delivery,
      clock: systemClock,
      limiter: createLimiter(POST_CONCURRENCY),
      onPushProblem: ({ what, error }) => logger.warn('state push problem', { what, error }),
    }),
  });
});
