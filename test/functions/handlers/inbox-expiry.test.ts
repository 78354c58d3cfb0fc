import { describe, expect, it } from 'vitest';
import { TTL_REMOVAL_IDENTITY } from '#adapters/dynamo-expiry-records';
import { makeHandler } from '#handlers/inbox-expiry';

describe('inbox-expiry handler', () => {
  it('announces the count of each user who lost an unread notification to TTL', async () => {
    const announced: string[] = [];
    const handler = makeHandler({
      inbox: {
        announceState: async (owner) => {
          announced.push(`${owner.tenant}/${owner.userId}`);
          return { unread: 0 };
        },
      },
    });

    await handler({
      Records: [
        {
          eventName: 'REMOVE',
          userIdentity: { ...TTL_REMOVAL_IDENTITY },
          dynamodb: {
            Keys: { pk: { S: 'U#acme#alice' }, sk: { S: 'N#1' } },
            OldImage: { read: { BOOL: false } },
          },
        },
      ],
    });

    expect(announced).toEqual(['acme/alice']);
  });
});
