import { describe, expect, it } from 'vitest';
import { fromItem, notificationKey, toItem } from '#adapters/dynamo-notification-items';
import type { Notification, Recipient } from '#core/model';

const alice: Recipient = { kind: 'user', tenant: 'acme', userId: 'alice' };
const news: Recipient = { kind: 'topic', tenant: 'acme', topic: 'project.42' };
const note: Notification = {
  id: '01JDX0000000000000000000AB',
  eventId: 'evt-1',
  type: 'comment.created',
  title: 'New comment',
  body: 'Bob replied',
  data: { postId: 42 },
  url: 'https://app.example/posts/42',
  topic: 'project.42',
  createdAt: '2029-01-01T00:00:00.000Z',
  read: true,
  seen: false,
  archived: false,
  interacted: false,
};

describe('notification items', () => {
  it('keys a notification under its recipient, by id', () => {
    expect(notificationKey(alice, note.id)).toEqual({ pk: 'U#acme#alice', sk: `N#${note.id}` });
    expect(notificationKey(news, note.id)).toEqual({
      pk: 'T#acme#project.42',
      sk: `N#${note.id}`,
    });
  });

  it('round-trips a user’s notification, read flag included', () => {
    expect(fromItem(toItem(alice, note))).toEqual(note);
  });

  it('keeps no read state for a topic’s history, reading it back as unread', () => {
    expect(toItem(news, note)).not.toHaveProperty('read');
    expect(fromItem(toItem(news, note))).toEqual({ ...note, read: false });
  });

  it('reads back only the notification’s own fields, of the right types', () => {
    const item = {
      ...toItem(alice, { ...note, title: undefined }),
      pk: 'U#acme#alice',
      sk: `N#${note.id}`,
      expiresAt: 1,
      data: ['not', 'an', 'object'],
      url: 7,
    };

    expect(Object.keys(fromItem(item)).sort()).toEqual([
      'archived',
      'body',
      'createdAt',
      'eventId',
      'id',
      'interacted',
      'read',
      'seen',
      'topic',
      'type',
    ]);
  });
});
