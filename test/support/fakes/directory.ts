import type { Directory } from '#core/ports';

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
