import type { Node } from 'constructs';
import { parseSourceTenants, type SourceTenants } from '#config/eventbridge-ingress';

/** How the WebSocket authorizer and the HTTP API verify tokens: an HS256 secret in Secrets Manager, or a JWKS URL. */
export interface JwtSettings {
  secretArn?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** The `typ` header every token must carry (e.g. `at+jwt`); unchecked when absent. */
  typ?: string;
}

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Deploy-time choices, read once from CDK context (`-c key=value` or cdk.json). */
export interface HeraldSettings {
  stageName: string;
  /** Default-route throttling of the WebSocket stage (requests per second, burst). */
  throttle: { rateLimit: number; burstLimit: number };
  /**
   * `$connect`'s own route throttle, so a flood of connects (each one an authorizer and a
   * connect invocation) is refused before it eats the budget of connected clients' frames.
   */
  connectThrottle: { rateLimit: number; burstLimit: number };
  jwt: JwtSettings;
  /** The verified SES identity mail is sent from, e.g. `Herald <noreply@example.com>`. */
  emailFrom?: string;
  logLevel: LogLevel;
  /**
   * Whether this app sets the region's API Gateway CloudWatch role (needed once per
   * account and region before a WebSocket stage may write access logs). On by default,
   * so a first deploy works; `false` where the account already has one.
   */
  apiGatewayCloudWatchRole: boolean;
  /**
   * Who may publish to the notifications topic: account ids and IAM role ARNs. Empty means
   * the deploying account only.
   */
  publisherPrincipals: string[];
  /** Fan-out invocations at once (the SQS event source's MaximumConcurrency, 2–1000). */
  fanOutMaxConcurrency: number;
  /** The account's SES send rate (messages per second), which the email consumers share. */
  sesSendRate: number;
  /** Where alarm notifications are emailed (a subscription to the alarm topic); none when unset. */
  alarmEmail?: string;
  /** A domain to verify as an SES identity with Easy DKIM (its DNS records are outputs). */
  emailDomain?: string;
  /** EventBridge ingress: the bus its rules are on (the account's default bus when absent). */
  eventBusName?: string;
  /** EventBridge ingress: sources bound to the one tenant whose envelopes they may send. */
  eventSourceTenants: SourceTenants;
}

/** How the email consumers share the SES send rate: how many run at once, and each one's rate. */
export interface EmailConcurrency {
  maxConcurrency: number;
  sendRatePerConsumer: number;
}

export const SETTINGS_DEFAULTS = {
  stageName: 'live',
  throttleRateLimit: 100,
  throttleBurstLimit: 200,
  connectThrottleRateLimit: 20,
  connectThrottleBurstLimit: 40,
  logLevel: 'INFO',
  /** Leaves room in the region's default 1,000 concurrent executions for `$connect` and the rest. */
  fanOutMaxConcurrency: 100,
  /** SES's default production quota, messages per second. */
  sesSendRate: 14,
} as const;

/** Lambda's bounds on an SQS event source's MaximumConcurrency. */
const MAX_CONCURRENCY_RANGE = { min: 2, max: 1000 } as const;
/** What one email consumer sends per second at most: its budget of 50 recipients fits its timeout. */
const SENDS_PER_EMAIL_CONSUMER = 10;

/**
 * Splits the SES rate over the email consumers: as few as Lambda allows (2) until each would
 * send more than SENDS_PER_EMAIL_CONSUMER a second, so together they never outrun SES.
 */
export function emailConcurrency(sesSendRate: number): EmailConcurrency {
  const maxConcurrency = Math.min(
    MAX_CONCURRENCY_RANGE.max,
    Math.max(MAX_CONCURRENCY_RANGE.min, Math.ceil(sesSendRate / SENDS_PER_EMAIL_CONSUMER)),
  );
  return {
    maxConcurrency,
    sendRatePerConsumer: Math.max(1, Math.floor(sesSendRate / maxConcurrency)),
  };
}

const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Reads and validates the context once, so a bad value fails synth instead of a deploy. */
export function readSettings(node: Node): HeraldSettings {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new Error(`context ${key} must be a string`);
    return value.trim();
  };
  const positive = (key: string, fallback: number, integer: boolean): number => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return fallback;
    const parsed = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0 || (integer && !Number.isInteger(parsed))) {
      throw new Error(`context ${key} must be a positive ${integer ? 'integer' : 'number'}`);
    }
    return parsed;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw new Error(`context ${key} must be true or false`);
  };

  const stageName = text('stageName') ?? SETTINGS_DEFAULTS.stageName;
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(stageName)) {
    throw new Error('context stageName may hold only letters, digits, "-" and "_"');
  }

  const logLevel = (text('logLevel') ?? SETTINGS_DEFAULTS.logLevel).toUpperCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new Error(`context logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const jwt: JwtSettings = {
    secretArn: text('jwtSecretArn'),
    jwksUrl: text('jwksUrl'),
    issuer: text('jwtIssuer'),
    audience: text('jwtAudience'),
    typ: text('jwtTyp'),
  };
  if (jwt.secretArn && jwt.jwksUrl) {
    throw new Error('set either context jwtSecretArn or jwksUrl, not both');
  }
  if (jwt.secretArn && !/^arn:[\w-]+:secretsmanager:/.test(jwt.secretArn)) {
    throw new Error('context jwtSecretArn must be a Secrets Manager secret ARN');
  }
  if (jwt.jwksUrl && !jwt.jwksUrl.startsWith('https://')) {
    throw new Error('context jwksUrl must be an https:// URL');
  }
  if (jwt.jwksUrl && !jwt.audience) {
    // Without it, any token the identity provider signs for any of its apps would do.
    throw new Error(
      'context jwksUrl needs jwtAudience: JWKS verification without an audience is refused',
    );
  }

  const fanOutMaxConcurrency = positive(
    'fanOutMaxConcurrency',
    SETTINGS_DEFAULTS.fanOutMaxConcurrency,
    true,
  );
  if (
    fanOutMaxConcurrency < MAX_CONCURRENCY_RANGE.min ||
    fanOutMaxConcurrency > MAX_CONCURRENCY_RANGE.max
  ) {
    throw new Error(
      `context fanOutMaxConcurrency must be ${MAX_CONCURRENCY_RANGE.min}–${MAX_CONCURRENCY_RANGE.max} (Lambda's bounds)`,
    );
  }
  const alarmEmail = text('alarmEmail');
  if (alarmEmail !== undefined && !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(alarmEmail)) {
    throw new Error('context alarmEmail must be one email address, e.g. ops@example.com');
  }

  return {
    stageName,
    throttle: {
      rateLimit: positive('throttleRateLimit', SETTINGS_DEFAULTS.throttleRateLimit, false),
      burstLimit: positive('throttleBurstLimit', SETTINGS_DEFAULTS.throttleBurstLimit, true),
    },
    connectThrottle: {
      rateLimit: positive(
        'connectThrottleRateLimit',
        SETTINGS_DEFAULTS.connectThrottleRateLimit,
        false,
      ),
      burstLimit: positive(
        'connectThrottleBurstLimit',
        SETTINGS_DEFAULTS.connectThrottleBurstLimit,
        true,
      ),
    },
    jwt,
    emailFrom: text('emailFrom'),
    logLevel: logLevel as LogLevel,
    apiGatewayCloudWatchRole: flag('apiGatewayCloudWatchRole', true),
    publisherPrincipals: readPublisherPrincipals(node.tryGetContext('publisherPrincipals')),
    fanOutMaxConcurrency,
    sesSendRate: positive('sesSendRate', SETTINGS_DEFAULTS.sesSendRate, false),
    alarmEmail,
    emailDomain: emailDomainOf(text('emailDomain')),
    ...eventBridgeSettings(node, text),
  };
}

function emailDomainOf(domain: string | undefined): string | undefined {
  if (domain === undefined) return undefined;
  if (
    !/^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/.test(domain)
  ) {
    throw new Error('context emailDomain must be a domain name, e.g. example.com');
  }
  return domain.toLowerCase();
}

/** Context `eventBusName` and `eventSourceTenants` (a JSON object, or its text from `-c`). */
function eventBridgeSettings(node: Node, text: (key: string) => string | undefined) {
  const eventBusName = text('eventBusName');
  if (eventBusName !== undefined && !/^[A-Za-z0-9._\-/]{1,256}$/.test(eventBusName)) {
    throw new Error('context eventBusName must be an event bus name');
  }
  return {
    eventBusName,
    eventSourceTenants: parseSourceTenants(node.tryGetContext('eventSourceTenants')),
  };
}

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/**
 * Context `publisherPrincipals`: a JSON list (cdk.json) or a comma-separated string (`-c`)
 * of 12-digit account ids and IAM role ARNs. A wildcard or anything else fails synth.
 */
function readPublisherPrincipals(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list = Array.isArray(value) ? value : String(value).split(',');
  const principals = [...new Set(list.map((item) => String(item).trim()).filter(Boolean))];
  for (const principal of principals) {
    if (!ACCOUNT_ID.test(principal) && !ROLE_ARN.test(principal)) {
      throw new Error(
        `context publisherPrincipals: "${principal}" is neither a 12-digit account id nor ` +
          'an IAM role ARN (arn:aws:iam::123456789012:role/name)',
      );
    }
  }
  return principals;
}

/** The bare address of `Name <addr>` or `addr`, as SES's `ses:FromAddress` condition sees it. */
export function senderAddress(emailFrom: string): string {
  return /<([^<>]+)>\s*$/.exec(emailFrom)?.[1]?.trim() ?? emailFrom;
}
