import type { EventLedger } from '#core/ports';

/**
 * First publish times per tenant and event id, as `DynamoEventLedger` keeps them: a record
 * counts until its `expiresAt` (epoch s), judged at the arriving publish's time.
 */
export class FakeEventLedger implements EventLedger {
  readonly first = new Map<string, { publishedAt: number; expiresAt: number }>();
  async firstPublished(
    tenant: string,
    eventId: string,
    publishedAt: number,
    expiresAt = Number.POSITIVE_INFINITY,
  ): Promise<number> {
    const key = `${tenant}/${eventId}`;
    const known = this.first.get(key);
    if (known !== undefined && known.expiresAt > Math.floor(publishedAt / 1000)) {
      return known.publishedAt;
    }
    this.first.set(key, { publishedAt, expiresAt });
    return publishedAt;
  }
}
