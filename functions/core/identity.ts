/**
 * Who the caller is: read from a verified token's claims by the authorizer, and from the
 * authorizer context by every route after it. Both directions validate, so a route never
 * trusts a shape it did not check.
 */
import { UnauthorizedError } from './errors';
import type { Identity } from './model';
import { isValidTopicPattern } from './topics';

export const DEFAULT_TENANT = 'default';
/** Keeps the authorizer context (and every connection item that copies it) small. */
export const MAX_TOPIC_PATTERNS = 100;
const MAX_USER_ID_LENGTH = 256;
const MAX_EMAIL_LENGTH = 254;

const TENANT = /^[A-Za-z0-9._-]{1,64}$/;
// C0, DEL and C1 controls: they would corrupt logs and keys.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/**
 * What API Gateway carries from the authorizer to every route. Values must be flat strings,
 * numbers or booleans, hence topics as a JSON string.
 */
export type AuthorizerContext = {
  tenant: string;
  userId: string;
  topics: string;
  email?: string;
  /** The token's `exp` (epoch s), as its decimal string. */
  exp?: string;
};

function isValidUserId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_USER_ID_LENGTH &&
    !CONTROL.test(value)
  );
}

function isValidTenant(value: unknown): value is string {
  return typeof value === 'string' && TENANT.test(value);
}

function looksLikeEmail(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= MAX_EMAIL_LENGTH &&
    !CONTROL.test(value) &&
    EMAIL.test(value)
  );
}

function userFromClaims(claims: Record<string, unknown>): string {
  // `sub` wins when present; a present but bad `sub` is refused rather than skipped, so a
  // token cannot name one user in `sub` and be read as another through `user_id`.
  const user = claims.sub !== undefined ? claims.sub : claims.user_id;
  if (user === undefined) throw new UnauthorizedError('token names no user');
  if (!isValidUserId(user)) throw new UnauthorizedError('invalid user claim');
  return user;
}

function tenantFromClaims(claims: Record<string, unknown>): string {
  if (claims.tenant === undefined) return DEFAULT_TENANT;
  if (!isValidTenant(claims.tenant)) throw new UnauthorizedError('invalid tenant claim');
  return claims.tenant;
}

function topicPatternsFrom(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  const patterns =
    typeof value === 'string' ? value.split(' ').filter((pattern) => pattern !== '') : value;
  if (
    !Array.isArray(patterns) ||
    patterns.length > MAX_TOPIC_PATTERNS ||
    !patterns.every(isValidTopicPattern)
  ) {
    throw new UnauthorizedError(`invalid ${what}`);
  }
  return [...new Set(patterns)];
}

function emailFromClaims(claims: Record<string, unknown>): string | undefined {
  // An address the issuer says it has not verified could be anyone's: mail none to it.
  if (claims.email_verified === false) return undefined;
  return looksLikeEmail(claims.email) ? claims.email : undefined;
}

/** The claim that makes a token a service credential (`"herald:role": "service"`). */
export const ROLE_CLAIM = 'herald:role';
export const SERVICE_ROLE = 'service';

function roleFromClaims(claims: Record<string, unknown>): 'service' | undefined {
  const role = claims[ROLE_CLAIM];
  if (role === undefined || role === 'user') return undefined;
  if (role === SERVICE_ROLE) return SERVICE_ROLE;
  throw new UnauthorizedError(`invalid ${ROLE_CLAIM} claim: "service", "user" or none`);
}

/** The identity a verified token's claims describe. Throws UnauthorizedError. */
export function identityFromClaims(claims: Record<string, unknown>): Identity {
  const identity: Identity = {
    tenant: tenantFromClaims(claims),
    userId: userFromClaims(claims),
    topicPatterns: topicPatternsFrom(claims.topics, 'topics claim'),
  };
  const email = emailFromClaims(claims);
  if (email !== undefined) identity.email = email;
  const expiry = expiryOf(claims.exp);
  if (expiry !== undefined) identity.tokenExpiresAt = expiry;
  const role = roleFromClaims(claims);
  if (role !== undefined) identity.role = role;
  return identity;
}

/** A token expiry in epoch seconds, from a number or (authorizer context) its decimal string. */
function expiryOf(value: unknown): number | undefined {
  const seconds = typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : value;
  return typeof seconds === 'number' && Number.isSafeInteger(seconds) && seconds > 0
    ? seconds
    : undefined;
}

export function toAuthorizerContext(identity: Identity): AuthorizerContext {
  const context: AuthorizerContext = {
    tenant: identity.tenant,
    userId: identity.userId,
    topics: JSON.stringify(identity.topicPatterns),
  };
  if (identity.email !== undefined) context.email = identity.email;
  if (identity.tokenExpiresAt !== undefined) context.exp = String(identity.tokenExpiresAt);
  return context;
}

/**
 * The caller a route's `requestContext.authorizer` names. API Gateway adds `principalId` and
 * `integrationLatency` there too; they are ignored. Throws UnauthorizedError.
 */
export function identityFromAuthorizerContext(context: unknown): Identity {
  if (typeof context !== 'object' || context === null) {
    throw new UnauthorizedError('no caller identity');
  }
  const { tenant, userId, topics, email, exp } = context as Record<string, unknown>;
  if (!isValidTenant(tenant) || !isValidUserId(userId) || typeof topics !== 'string') {
    throw new UnauthorizedError('malformed caller identity');
  }
  let parsedTopics: unknown;
  try {
    parsedTopics = JSON.parse(topics);
  } catch (error) {
    throw new UnauthorizedError('malformed caller identity', { cause: error });
  }
  if (!Array.isArray(parsedTopics)) throw new UnauthorizedError('malformed caller identity');
  const identity: Identity = {
    tenant,
    userId,
    topicPatterns: topicPatternsFrom(parsedTopics, 'caller topics'),
  };
  if (email !== undefined && email !== null && email !== '') {
    if (!looksLikeEmail(email)) throw new UnauthorizedError('malformed caller identity');
    identity.email = email;
  }
  if (exp !== undefined && exp !== null && exp !== '') {
    const expiry = expiryOf(exp);
    if (expiry === undefined) throw new UnauthorizedError('malformed caller identity');
    identity.tokenExpiresAt = expiry;
  }
  return identity;
}
