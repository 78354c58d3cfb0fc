import type { MailClaim, MailLease, MailLog } from '#core/ports';

interface MailRecord {
  claimant: string;
  leaseUntil?: number;
  sentAt?: number;
  expiresAt: number;
}

/** Claims and sent marks per tenant, user and notification, as `DynamoMailLog` keeps them. */
export class FakeMailLog implements MailLog {
  readonly records = new Map<string, MailRecord>();
  constructor(private readonly now: () => number = Date.now) {}

  async claim(tenant: string, userId: string, id: string, lease: MailLease): Promise<MailClaim> {
    const key = `${tenant}/${userId}/${id}`;
    const old = this.records.get(key);
    if (old?.sentAt !== undefined) return 'sent';
    if (old && (old.leaseUntil ?? 0) > lease.now) return 'held';
    const { claimant, leaseUntil, expiresAt } = lease;
    this.records.set(key, { claimant, leaseUntil, expiresAt });
    return 'claimed';
  }

  async markSent(tenant: string, userId: string, id: string, claimant: string): Promise<boolean> {
    const record = this.records.get(`${tenant}/${userId}/${id}`);
    if (record?.claimant !== claimant) return false;
    record.sentAt = this.now();
    record.leaseUntil = undefined;
    return true;
  }

  async release(tenant: string, userId: string, id: string, claimant: string): Promise<void> {
    const key = `${tenant}/${userId}/${id}`;
    const record = this.records.get(key);
    if (record?.claimant === claimant && record.sentAt === undefined) this.records.delete(key);
  }

  /** Whether the mail is marked sent. */
  wasSent(tenant: string, userId: string, id: string): boolean {
    return this.records.get(`${tenant}/${userId}/${id}`)?.sentAt !== undefined;
  }
}
