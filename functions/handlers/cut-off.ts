import * as z from 'zod';
import { createSignedPostDelivery, dynamoDocumentClient } from '#adapters/aws-clients';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { logger } from '#adapters/powertools';
import { requireEnv, wiredOnFirstCall } from '#config/config';
import { ENV } from '#config/env-names';
import { type CloseDeps, cutOffUser, DEFAULT_CLOSE_CONCURRENCY } from '#core/connection-lifetime';
import { BadRequestError } from '#core/errors';

/** What the publisher side invokes with: whose connections to close. */
const cutOffEvent = z.strictObject({
  tenant: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  userId: z.string().min(1).max(256),
});

export interface CutOffResult {
  closed: number;
  /** Connections that could not be closed now; their token's expiry still ends them. */
  failed: number;
}

/**
 * Invoked directly (`aws lambda invoke`, or a publisher's SDK) with `{"tenant","userId"}`:
 * closes every connection the user holds. Their tokens still connect until the secret or
 * key that signed them is rotated (README "Cutting a user off").
 */
export function makeHandler(deps: CloseDeps) {
  return async (event: unknown): Promise<CutOffResult> => {
    const parsed = cutOffEvent.safeParse(event);
    if (!parsed.success) {
      throw new BadRequestError('the event must be {"tenant": "<tenant>", "userId": "<user>"}');
    }
    const { tenant, userId } = parsed.data;
    const report = await cutOffUser(deps, tenant, userId);
    logger.info('user cut off', { tenant, userId, closed: report.closed.length });
    for (const { what, error } of report.problems) logger.warn('cut-off problem', { what, error });
    return { closed: report.closed.length, failed: report.problems.length };
  };
}

export const handler = wiredOnFirstCall(() =>
  makeHandler({
    connections: new DynamoConnectionStore(
      dynamoDocumentClient(),
      requireEnv(ENV.connectionsTable),
    ),
    disconnector: createSignedPostDelivery(requireEnv(ENV.callbackUrl), DEFAULT_CLOSE_CONCURRENCY),
    concurrency: DEFAULT_CLOSE_CONCURRENCY,
  }),
);
