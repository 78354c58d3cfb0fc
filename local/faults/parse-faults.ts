/**
 * `HERALD_FAULTS` for `npm start`: comma-separated `point.fault=value` pairs, e.g.
 * `connections.throttle=0.05,dynamodb.throttle=0.05,handlers.crash=0.02,seed=7`.
 */
import { ConfigError } from '#config/config';
import { DEFAULT_SLOW_MS, type FaultPlan } from './fault-plan';

export const FAULTS_VARIABLE = 'HERALD_FAULTS';

type Kind = 'rate' | 'ms' | 'seed';

/** Each key, where it goes in the plan, and what it may be. */
const KEYS: Record<string, { path: [string, string] | ['seed']; kind: Kind }> = {
  'connections.throttle': { path: ['connections', 'throttleRate'], kind: 'rate' },
  'connections.error': { path: ['connections', 'errorRate'], kind: 'rate' },
  'connections.slow': { path: ['connections', 'slowRate'], kind: 'rate' },
  'connections.slowMs': { path: ['connections', 'slowMs'], kind: 'ms' },
  'dynamodb.throttle': { path: ['dynamodb', 'throttleRate'], kind: 'rate' },
  'ses.error': { path: ['ses', 'errorRate'], kind: 'rate' },
  'handlers.crash': { path: ['handlers', 'crashRate'], kind: 'rate' },
  'handlers.overrun': { path: ['handlers', 'overrunRate'], kind: 'rate' },
  seed: { path: ['seed'], kind: 'seed' },
};

/** The plan `raw` describes; undefined when it is absent or blank (no faults). */
export function parseFaults(raw: string | undefined): FaultPlan | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const plan: Record<string, unknown> = {};
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const [key = '', text, ...rest] = pair.split('=').map((part) => part.trim());
    const spec = KEYS[key];
    if (!spec) {
      throw new ConfigError(
        `${FAULTS_VARIABLE}: unknown fault "${key}"; known: ${Object.keys(KEYS).join(', ')}`,
      );
    }
    if (text === undefined || text === '' || rest.length > 0) {
      throw new ConfigError(`${FAULTS_VARIABLE}: "${key}" needs one value, as ${key}=<value>`);
    }
    const value = parseValue(key, spec.kind, text);
    const [point, field] = spec.path;
    if (field === undefined) plan[point] = value;
    else plan[point] = { ...(plan[point] as object | undefined), [field]: value };
  }
  return plan as FaultPlan;
}

function parseValue(key: string, kind: Kind, text: string): number {
  const value = Number(text);
  if (kind === 'rate' && !(Number.isFinite(value) && value >= 0 && value <= 1)) {
    throw new ConfigError(`${FAULTS_VARIABLE}: ${key} is a rate from 0 to 1, got "${text}"`);
  }
  if (kind === 'ms' && !(Number.isInteger(value) && value >= 0)) {
    throw new ConfigError(`${FAULTS_VARIABLE}: ${key} is whole milliseconds, got "${text}"`);
  }
  if (kind === 'seed' && !Number.isInteger(value)) {
    throw new ConfigError(`${FAULTS_VARIABLE}: seed is a whole number, got "${text}"`);
  }
  return value;
}

/** One line per point that injects anything, for `npm start`'s banner; empty when none does. */
export function describeFaults(plan: FaultPlan | undefined): string[] {
  if (!plan) return [];
  const percent = (rate: number | undefined) => `${+((rate ?? 0) * 100).toFixed(2)}%`;
  const lines: string[] = [];
  const { connections: c, dynamodb, ses, handlers: h } = plan;
  if (c?.throttleRate || c?.errorRate || c?.slowRate) {
    lines.push(
      `@connections: ${percent(c.throttleRate)} 429, ${percent(c.errorRate)} 500, ` +
        `${percent(c.slowRate)} slow by ${c.slowMs ?? DEFAULT_SLOW_MS} ms`,
    );
  }
  if (dynamodb?.throttleRate) {
    lines.push(`DynamoDB: ${percent(dynamodb.throttleRate)} ProvisionedThroughputExceeded`);
  }
  if (ses?.errorRate) lines.push(`SES: ${percent(ses.errorRate)} of sends fail`);
  if (h?.crashRate || h?.overrunRate) {
    lines.push(
      `SQS handlers: ${percent(h.crashRate)} crash mid-batch, ${percent(h.overrunRate)} overrun`,
    );
  }
  if (lines.length > 0 && plan.seed !== undefined) lines.push(`seed ${plan.seed}`);
  return lines;
}
