import type { Node } from 'constructs';
import { parseSourceTenants, type SourceTenants } from '#config/eventbridge-ingress';

/** How the WebSocket authorizer and the HTTP API verify tokens: an HS256 secret in Secrets Manager, or a JWKS URL. */
export interface JwtSettings {
  secretArn?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Deploy-time choices, read once from CDK context (`-c key=value` or cdk.json). */
export interface HeraldSettings {
  stageName: string;
  /** Default-route throttling of the WebSocket stage (requests per second, burst). */
  throttle: { rateLimit: number; burstLimit: number };
  jwt: JwtSettings;
  /** The verified SES identity mail is sent from, e.g. `Herald <noreply@example.com>`. */
  emailFrom?: string;
  logLevel: LogLevel;
  /**
   * Whether this app sets the region's API Gateway CloudWatch role (needed once per
   * account and region before a WebSocket stage may write access logs).
   */
  apiGatewayCloudWatchRole: boolean;
  /** A domain to verify as an SES identity with Easy DKIM (its DNS records are outputs). */
  emailDomain?: string;
  /** EventBridge ingress: the bus its rules are on (the account's default bus when absent). */
  eventBusName?: string;
  /** EventBridge ingress: sources bound to the one tenant whose envelopes they may send. */
  eventSourceTenants: SourceTenants;
}

export const SETTINGS_DEFAULTS = {
  stageName: 'live',
  throttleRateLimit: 100,
  throttleBurstLimit: 200,
  logLevel: 'INFO',
} as const;

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
  const flag = (key: string): boolean => {
    const value: unknown = node.tryGetContext(key);
    return value === true || value === 'true';
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

  return {
    stageName,
    throttle: {
      rateLimit: positive('throttleRateLimit', SETTINGS_DEFAULTS.throttleRateLimit, false),
      burstLimit: positive('throttleBurstLimit', SETTINGS_DEFAULTS.throttleBurstLimit, true),
    },
    jwt,
    emailFrom: text('emailFrom'),
    logLevel: logLevel as LogLevel,
    apiGatewayCloudWatchRole: flag('apiGatewayCloudWatchRole'),
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

/** The bare address of `Name <addr>` or `addr`, as SES's `ses:FromAddress` condition sees it. */
export function senderAddress(emailFrom: string): string {
  return /<([^<>]+)>\s*$/.exec(emailFrom)?.[1]?.trim() ?? emailFrom;
}
