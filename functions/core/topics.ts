/**
 * NATS-style topics and the patterns a token grants: tokens of `[A-Za-z0-9_-]+` joined by
 * `.`; in a pattern `*` stands for exactly one token and `>`, only as the last token, for one
 * or more. A topic itself never holds a wildcard.
 */
import type { Identity } from './model';

/** Long enough for any sensible name, short enough to sit in a DynamoDB key with its prefixes. */
export const MAX_TOPIC_LENGTH = 256;

const TOKEN = /^[A-Za-z0-9_-]+$/;

function tokensOf(value: unknown): string[] | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TOPIC_LENGTH) {
    return undefined;
  }
  return value.split('.');
}

export function isValidTopic(topic: unknown): topic is string {
  const tokens = tokensOf(topic);
  return tokens?.every((token) => TOKEN.test(token)) === true;
}

export function isValidTopicPattern(pattern: unknown): pattern is string {
  const tokens = tokensOf(pattern);
  if (tokens === undefined) return false;
  const last = tokens.length - 1;
  return tokens.every(
    (token, index) => TOKEN.test(token) || token === '*' || (token === '>' && index === last),
  );
}

/** Whether `topic` falls under `pattern`; false when either is malformed. */
export function topicMatches(pattern: string, topic: string): boolean {
  if (!isValidTopicPattern(pattern) || !isValidTopic(topic)) return false;
  const patternTokens = pattern.split('.');
  const topicTokens = topic.split('.');
  for (const [index, token] of patternTokens.entries()) {
    // `>` is last (validated) and needs at least one token left to stand for.
    if (token === '>') return index < topicTokens.length;
    const topicToken = topicTokens[index];
    if (topicToken === undefined) return false;
    if (token !== '*' && token !== topicToken) return false;
  }
  return patternTokens.length === topicTokens.length;
}

/** Whether the caller's token lets them subscribe to this (concrete) topic. */
export function mayAccessTopic(identity: Identity, topic: string): boolean {
  return identity.topicPatterns.some((pattern) => topicMatches(pattern, topic));
}

export const PRESENCE_TOPIC_PREFIX = 'presence.';

/**
 * The topic carrying a user's presence changes, or undefined for a user id that is not one
 * topic token (`[A-Za-z0-9_-]+`): such users can be asked about but not watched. The
 * browser client imports this too, so both sides agree on which users can be watched.
 */
export function presenceTopic(userId: string): string | undefined {
  const topic = `${PRESENCE_TOPIC_PREFIX}${userId}`;
  return !userId.includes('.') && isValidTopic(topic) ? topic : undefined;
}
