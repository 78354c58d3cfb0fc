/**
 * Names no other test of this run uses, so that the contract suites can share one
 * DynamoDB Local table without meeting: tenants, users, topics and connection ids.
 */
import { randomUUID } from 'node:crypto';

const RUN = randomUUID().slice(0, 8);
let counter = 0;

export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${RUN}-${counter}`;
}
