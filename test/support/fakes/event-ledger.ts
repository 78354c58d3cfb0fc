import type { EventLedger } from '#core/ports';

/** First publish times per tenant and event id, as `DynamoEventLedger` keeps them. */
export class FakeEventLedger implements EventLedger {
  readonly first = new Map<string, number>();
  async firstPublished(tenant: string, eventId: string, publishedAt: number): Promise<number> {
    const key = `${tenant}/${eventId}`;
    const known = this.first.get(key);
    if (known !== undefined) return known;
    this.first.set(key, publishedAt);
    return publishedAt;
  }
}
