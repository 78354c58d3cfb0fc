import type { Directory, MailLog } from '#core/ports';

/** Addresses per tenant and user, as `DynamoDirectory` keeps them: the latest wins. */
export class FakeDirectory implements Directory {
  readonly emails = new Map<string, string>();
  async rememberEmail(tenant: string, userId: string, email: string): Promise<void> {
    this.emails.set(`${tenant}/${userId}`, email);
  }
  async emailOf(tenant: string, userId: string): Promise<string | undefined> {
    return this.emails.get(`${tenant}/${userId}`);
  }
}

/** Sent mails per tenant, user and notification, as `DynamoMailLog` records them. */
export class FakeMailLog implements MailLog {
  readonly sent = new Set<string>();
  async wasSent(tenant: string, userId: string, id: string): Promise<boolean> {
    return this.sent.has(`${tenant}/${userId}/${id}`);
  }
  async recordSent(tenant: string, userId: string, id: string): Promise<void> {
    this.sent.add(`${tenant}/${userId}/${id}`);
  }
}
