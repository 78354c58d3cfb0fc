/**
 * Judges what a Lambda REQUEST authorizer returned, as API Gateway does before `$connect`:
 * an explicit Deny wins, otherwise some statement must Allow `execute-api:Invoke` on the
 * method ARN; a malformed result (or a context value that is not a string, number or boolean,
 * or one over the 8 KB result quota) is the authorizer's fault and ends in a 500.
 */
import type { WebSocketAuthorizerContext } from './events';

export type AuthorizerVerdict =
  | { kind: 'allow'; authorizer: WebSocketAuthorizerContext }
  | { kind: 'deny' }
  | { kind: 'invalid'; reason: string };

/** "AWS Lambda authorizer result size" in the WebSocket quotas. */
const MAX_RESULT_BYTES = 8 * 1024;

export function judgeAuthorizerResult(
  result: unknown,
  methodArn: string,
  integrationLatency: number,
): AuthorizerVerdict {
  if (!isRecord(result)) return invalid('the result is not an object');
  if (typeof result.principalId !== 'string') return invalid('principalId is not a string');
  if (Buffer.byteLength(JSON.stringify(result)) > MAX_RESULT_BYTES) {
    return invalid('the result is over 8 KB');
  }

  const context: Record<string, string> = {};
  if (result.context !== undefined && result.context !== null) {
    if (!isRecord(result.context)) return invalid('context is not an object');
    for (const [key, value] of Object.entries(result.context)) {
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        return invalid(`context value "${key}" is not a string, number or boolean`);
      }
      context[key] = String(value);
    }
  }

  const statements = readStatements(result.policyDocument);
  if (statements === undefined) return invalid('policyDocument has no Statement');
  let allowed = false;
  for (const statement of statements) {
    if (!appliesTo(statement, methodArn)) continue;
    if (statement.Effect === 'Deny') return { kind: 'deny' };
    if (statement.Effect === 'Allow') allowed = true;
  }
  if (!allowed) return { kind: 'deny' };
  return {
    kind: 'allow',
    authorizer: { ...context, principalId: result.principalId, integrationLatency },
  };
}

function readStatements(policy: unknown): Record<string, unknown>[] | undefined {
  if (!isRecord(policy)) return undefined;
  const statement = policy.Statement;
  const list = Array.isArray(statement) ? statement : [statement];
  return list.every(isRecord) ? list : undefined;
}

/** Conditions are not evaluated: nothing local can answer them. */
function appliesTo(statement: Record<string, unknown>, methodArn: string): boolean {
  const action =
    'Action' in statement
      ? matchesAny(statement.Action, 'execute-api:Invoke', true)
      : !matchesAny(statement.NotAction, 'execute-api:Invoke', true);
  const resource =
    'Resource' in statement
      ? matchesAny(statement.Resource, methodArn, false)
      : !matchesAny(statement.NotResource, methodArn, false);
  return action && resource;
}

function matchesAny(patterns: unknown, value: string, ignoreCase: boolean): boolean {
  const list = Array.isArray(patterns) ? patterns : [patterns];
  return list.some(
    (pattern) => typeof pattern === 'string' && wildcard(pattern, ignoreCase).test(value),
  );
}

/** IAM wildcards: `*` any run of characters (slashes included), `?` any one character. */
function wildcard(pattern: string, ignoreCase: boolean): RegExp {
  const body = pattern
    .split('')
    .map((char) =>
      char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(reason: string): AuthorizerVerdict {
  return { kind: 'invalid', reason };
}
