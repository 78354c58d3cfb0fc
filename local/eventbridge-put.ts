/**
 * Puts one Herald envelope on an EventBridge bus as the ingress rules expect it: the
 * envelope as `detail`, `detail-type` "Herald Notification". Used by `npm run notify --
 * --eventbridge`, the smoke test and the e2e tests, against the local EventBridge or AWS's.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { HERALD_DETAIL_TYPE } from '#config/eventbridge-ingress';

/** The source `notify` and the smoke test put envelopes with: one the open rule takes. */
export const DEFAULT_EVENT_SOURCE = 'herald.cli';

export interface PutOptions {
  /** Default `herald.cli`; a bound source only passes envelopes of its tenant. */
  source?: string;
  /** Default: the account's default bus. */
  busName?: string;
}

/** Returns EventBridge's event id; throws with its error code when the entry was refused. */
export async function putEnvelope(
  client: EventBridgeClient,
  envelope: object,
  options: PutOptions = {},
): Promise<string> {
  const result = await client.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: options.source ?? DEFAULT_EVENT_SOURCE,
          DetailType: HERALD_DETAIL_TYPE,
          Detail: JSON.stringify(envelope),
          EventBusName: options.busName,
        },
      ],
    }),
  );
  const [entry] = result.Entries ?? [];
  if ((result.FailedEntryCount ?? 0) > 0 || entry?.EventId === undefined) {
    throw new Error(
      `EventBridge refused the event: ${entry?.ErrorCode ?? 'no result'} ${entry?.ErrorMessage ?? ''}`.trim(),
    );
  }
  return entry.EventId;
}
