import { describe, expect, it } from 'vitest';
import type { SuppressionRecord } from '#core/suppression';
import { makeHandler } from '#handlers/ses-feedback';
import { sesEventOf, snsEventOf } from '#local/ses-feedback';

const NOW = Date.parse('2026-12-01T10:00:00.000Z');
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:feedback';

function setup(failWrites = false) {
  const suppressed: SuppressionRecord[] = [];
  const handler = makeHandler({
    suppressions: {
      suppress: async (record) => {
        if (failWrites) throw new Error('DynamoDB is down');
        suppressed.push(record);
      },
    },
    clock: { now: () => NOW },
  });
  return { handler, suppressed };
}

describe('ses-feedback handler', () => {
  it('suppresses the addresses of a hard bounce', async () => {
    const { handler, suppressed } = setup();
    const message = sesEventOf({
      kind: 'bounce',
      bounceType: 'Permanent',
      addresses: ['a@x.org', 'b@x.org'],
    });
    await handler(snsEventOf(TOPIC, JSON.stringify(message)));
    expect(suppressed.map((each) => [each.address, each.reason])).toEqual([
      ['a@x.org', 'bounce'],
      ['b@x.org', 'bounce'],
    ]);
  });

  it('drops, without throwing, a message that is not SES feedback', async () => {
    const { handler, suppressed } = setup();
    await expect(handler(snsEventOf(TOPIC, '{not json'))).resolves.toBeUndefined();
    await expect(handler(snsEventOf(TOPIC, '"a string"'))).resolves.toBeUndefined();
    expect(suppressed).toEqual([]);
  });

  it('throws when a suppression cannot be written, so SNS retries the invocation', async () => {
    const { handler } = setup(true);
    const message = sesEventOf({ kind: 'complaint', addresses: ['a@x.org'] });
    await expect(handler(snsEventOf(TOPIC, JSON.stringify(message)))).rejects.toThrow(
      'DynamoDB is down',
    );
  });
});
