import { describe, expect, it } from 'vitest';
import { composeMail } from '#core/email-compose';
import { parseEnvelope, toNotification } from '#core/envelope';

const PUBLISHED_AT = Date.parse('2026-11-23T12:00:00.000Z');

const envelope = parseEnvelope({
  id: 'evt-1',
  type: 'comment.created',
  tenant: 'acme',
  to: { users: ['alice', 'bob', 'carol'] },
  title: 'New comment',
  body: 'Bob replied to your post',
  url: 'https://app.example/posts/42',
  channels: ['inapp', 'email'],
});

describe('composeMail', () => {
  const base = toNotification(envelope, PUBLISHED_AT);

  it('uses the title as subject and body and url as text and html', () => {
    expect(composeMail('alice@example.com', base)).toEqual({
      to: 'alice@example.com',
      subject: 'New comment',
      text: 'Bob replied to your post\n\nhttps://app.example/posts/42',
      html:
        '<h1>New comment</h1><p>Bob replied to your post</p>' +
        '<p><a href="https://app.example/posts/42">https://app.example/posts/42</a></p>',
    });
  });

  it('falls back to the type when there is no title, body or url', () => {
    const bare = { ...base, title: undefined, body: undefined, url: undefined };
    expect(composeMail('a@example.com', bare)).toMatchObject({
      subject: 'comment.created',
      text: 'comment.created',
      html: '<h1>comment.created</h1>',
    });
  });

  it('escapes HTML in title, body and url', () => {
    const mail = composeMail('a@example.com', {
      ...base,
      title: '<script>alert(1)</script>',
      body: 'Tom & "Jerry" <b>it\'s</b>',
      url: 'https://app.example/?q="><img src=x onerror=alert(1)>',
    });
    expect(mail.html).not.toMatch(/<script|<b>|<img/);
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('Tom &amp; &quot;Jerry&quot; &lt;b&gt;it&#39;s&lt;/b&gt;');
    expect(mail.html).toContain('href="https://app.example/?q=&quot;&gt;&lt;img');
    // Plain text needs no escaping.
    expect(mail.subject).toBe('<script>alert(1)</script>');
  });
});
