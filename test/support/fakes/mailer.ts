import type { Mail, Mailer } from '#core/ports';

export class FakeMailer implements Mailer {
  readonly mails: Mail[] = [];
  failFor = new Set<string>();
  async send(mail: Mail): Promise<void> {
    if (this.failFor.has(mail.to)) throw new Error(`SES refused ${mail.to}`);
    this.mails.push(mail);
  }
}
