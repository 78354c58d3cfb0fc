/**
 * SES errors on demand: a proxy in front of aws-ses-v2-local that answers a share of the send
 * requests as SES does when it refuses one (400 Throttling "Maximum sending rate exceeded." or
 * 500 InternalFailure, in SES's query-protocol XML), so `@aws-sdk/client-ses` raises its usual
 * error. Everything else (the mail viewer, `/store`) passes.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { faultDice } from './fault-dice';
import type { FaultPlan } from './fault-plan';
import { type FaultAnswer, type FaultProxy, startFaultProxy } from './fault-proxy';
import { FaultTally } from './fault-tally';

const SEND_ACTIONS = new Set([
  'SendEmail',
  'SendRawEmail',
  'SendTemplatedEmail',
  'SendBulkTemplatedEmail',
]);

/** Whether the request sends mail (SES v1's `Action=Send…`, which Herald's mailer uses). */
export function isSend(request: IncomingMessage, body: Buffer): boolean {
  if (request.method !== 'POST') return false;
  const action = new URLSearchParams(body.toString('utf8')).get('Action');
  return action !== null && SEND_ACTIONS.has(action);
}

/** SES's query-protocol error document. */
export function sesError(kind: 'throttling' | 'internal'): FaultAnswer {
  const [status, type, code, message] =
    kind === 'throttling'
      ? [400, 'Sender', 'Throttling', 'Maximum sending rate exceeded.']
      : [500, 'Receiver', 'InternalFailure', 'An internal error occurred.'];
  const requestId = randomUUID();
  return {
    status,
    headers: { 'Content-Type': 'text/xml', 'x-amzn-RequestId': requestId },
    body:
      '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">' +
      `<Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

/** Starts the failing proxy in front of `target` (aws-ses-v2-local's endpoint). */
export function startSesFaults(
  target: string,
  plan: Pick<FaultPlan, 'ses' | 'seed'>,
  tally = new FaultTally(),
): Promise<FaultProxy> {
  const dice = faultDice(plan.seed, 'ses');
  const rate = plan.ses?.errorRate;
  return startFaultProxy({
    target,
    fault(request, body) {
      if (!isSend(request, body) || !dice.roll(rate)) return undefined;
      tally.count('ses.error');
      // Throttling is what a busy sender mostly meets; now and then SES itself fails.
      return sesError(dice.pick(4) === 0 ? 'internal' : 'throttling');
    },
  });
}
