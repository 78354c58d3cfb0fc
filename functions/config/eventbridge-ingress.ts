/**
 * The EventBridge ingress as plain data: which events are Herald envelopes, and which rule
 * takes them. The CDK stack builds its rules from it and the local EventBridge matches with
 * it, so the two cannot drift. An event is a Herald envelope when its `detail-type` is
 * `Herald Notification` and its `detail` is the envelope; the rule passes `detail` on to the
 * notifications topic, so it meets the same validation, consumers and dead-letter queues as
 * an envelope published to SNS.
 *
 * - The open rule takes every source starting with `herald.`; the envelope names its tenant.
 * - A bound source (`eventSourceTenants`: `{"com.acme.billing": "acme"}`) has its own rule
 *   that takes only envelopes naming its tenant: an envelope naming another (or none) is
 *   matched by no rule and goes nowhere. A bound source may not start with `herald.`, or the open rule
 *   would take its envelopes for any tenant too.
 */

export const HERALD_DETAIL_TYPE = 'Herald Notification';

/** Sources the open rule takes, whatever tenant their envelopes name. */
export const OPEN_SOURCE_PREFIX = 'herald.';

/** What an EventBridge source is: 1–256 characters, no whitespace. */
const SOURCE = /^[^\s]{1,256}$/;
/** What a tenant is (as the envelope's schema has it): no `#`, 1–64 characters. */
const TENANT = /^[A-Za-z0-9._-]{1,64}$/;

/** A source bound to the tenant whose envelopes it alone may send through its rule. */
export type SourceTenants = Readonly<Record<string, string>>;

export interface IngressRule {
  /** Stable id of the rule (the CDK construct id, and the local stack's name for it). */
  id: string;
  description: string;
  /** An EventBridge event pattern (exact values and `prefix`). */
  pattern: IngressPattern;
}

type IngressValue = string | { readonly prefix: string };
export interface IngressPattern {
  readonly [field: string]: readonly IngressValue[] | IngressPattern;
}

/** The open rule and one rule per bound source. */
export function ingressRules(sourceTenants: SourceTenants = {}): IngressRule[] {
  const open: IngressRule = {
    id: 'HeraldEnvelopes',
    description: `Herald envelopes from any "${OPEN_SOURCE_PREFIX}*" source, for any tenant`,
    pattern: {
      source: [{ prefix: OPEN_SOURCE_PREFIX }],
      'detail-type': [HERALD_DETAIL_TYPE],
    },
  };
  const bound = Object.entries(sourceTenants).map(
    ([source, tenant], index): IngressRule => ({
      id: `HeraldEnvelopesFromSource${index + 1}`,
      description: `Herald envelopes from ${source}, for tenant ${tenant} only`,
      pattern: {
        source: [source],
        'detail-type': [HERALD_DETAIL_TYPE],
        // Named explicitly: an envelope that leaves `tenant` out (the "default" tenant) does
        // not match, so a bound source always says which tenant it writes to.
        detail: { tenant: [tenant] },
      },
    }),
  );
  return [open, ...bound];
}

/**
 * Reads `{"source": "tenant", …}` (a JSON object or its text), as the context key
 * `eventSourceTenants` and `HERALD_EVENTBRIDGE_SOURCE_TENANTS` give it. Throws with the
 * reason on anything else, so a bad binding fails synth or start-up, never a publish.
 */
export function parseSourceTenants(raw: unknown, what = 'eventSourceTenants'): SourceTenants {
  if (raw === undefined || raw === null || raw === '') return {};
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new Error(`${what} must be a JSON object of source to tenant`, { cause: error });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${what} must be a JSON object of source to tenant`);
  }
  const bindings: Record<string, string> = {};
  for (const [source, tenant] of Object.entries(value)) {
    if (!SOURCE.test(source)) throw new Error(`${what}: "${source}" is not an event source`);
    if (source.startsWith(OPEN_SOURCE_PREFIX)) {
      throw new Error(
        `${what}: "${source}" starts with "${OPEN_SOURCE_PREFIX}", which the open rule takes for any tenant; bind a source outside it`,
      );
    }
    if (typeof tenant !== 'string' || !TENANT.test(tenant)) {
      throw new Error(`${what}: the tenant of "${source}" must be a tenant name`);
    }
    bindings[source] = tenant;
  }
  return bindings;
}
