/**
 * What the local stack loads and sets for its handlers: every Lambda handler of Herald, and
 * the environment variables some options stand for.
 */
import { ENV } from '#config/env-names';

/** Loaded only once the environment is set, as Lambda loads a handler in a configured container. */
export async function loadHandlers() {
  const [
    authorizer,
    connect,
    disconnect,
    message,
    fanOut,
    email,
    httpApi,
    inboxExpiry,
    connectionSweep,
    cutOff,
    feedback,
    snoozeSweep,
  ] = await Promise.all([
    import('#handlers/authorizer'),
    import('#handlers/connect'),
    import('#handlers/disconnect'),
    import('#handlers/message'),
    import('#handlers/fan-out'),
    import('#handlers/email'),
    import('#handlers/http-api'),
    import('#handlers/inbox-expiry'),
    import('#handlers/connection-sweep'),
    import('#handlers/cut-off'),
    import('#handlers/ses-feedback'),
    import('#handlers/snooze-sweep'),
  ]);
  return {
    authorizer: authorizer.handler,
    connect: connect.handler,
    disconnect: disconnect.handler,
    message: message.handler,
    fanOut: fanOut.handler,
    email: email.handler,
    httpApi: httpApi.handler,
    inboxExpiry: inboxExpiry.handler,
    connectionSweep: connectionSweep.handler,
    cutOff: cutOff.handler,
    sesFeedback: feedback.handler,
    /** The snooze wake-up on a clock of the caller's (the local stack's `snoozeClock`). */
    wireSnoozeSweep: snoozeSweep.wireSnoozeSweep,
  };
}

/** The frame-rate variables for the options given; the others keep their environment's value. */
/** The per-connection frame rate the message function enforces; its defaults where absent. */
export interface FrameRateOptions {
  perSecond?: number;
  burst?: number;
  refusalsBeforeClose?: number;
}

export function frameRateEnvironment(rate: FrameRateOptions | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  if (rate?.perSecond !== undefined) env[ENV.framesPerSecond] = String(rate.perSecond);
  if (rate?.burst !== undefined) env[ENV.frameBurst] = String(rate.burst);
  if (rate?.refusalsBeforeClose !== undefined) {
    env[ENV.frameRefusalsBeforeClose] = String(rate.refusalsBeforeClose);
  }
  return env;
}
