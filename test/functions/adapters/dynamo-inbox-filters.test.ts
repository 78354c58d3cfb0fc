import { describe, expect, it } from 'vitest';
import { narrowed } from '#adapters/dynamo-inbox-bulk';
import { planOf } from '#adapters/dynamo-inbox-filters';

describe('planOf', () => {
  it.each([
    [{}, 'visible'],
    [{ read: false }, 'unread'],
    [{ seen: false }, 'unseen'],
    [{ read: false, seen: false }, 'unread'],
    [{ read: true }, 'visible'],
    [{ tag: 'billing' }, 'visible'],
    [{ archived: true }, 'hidden'],
    [{ snoozed: true }, 'hidden'],
    [{ archived: true, read: false }, 'hidden'],
  ])('reads %j from the %s index', (filter, index) => {
    expect(planOf(filter).index).toBe(index);
  });

  it('needs no FilterExpression where the index selects exactly', () => {
    expect(planOf({})).toEqual({ index: 'visible' });
    expect(planOf({ read: false })).toEqual({ index: 'unread' });
  });

  it('filters what the index does not select, naming only the values it uses', () => {
    expect(planOf({ seen: true, tag: 'team', type: 'a.b', topic: 'p.1' })).toEqual({
      index: 'visible',
      filter: {
        expression:
          '#seen = :fTrue AND #type = :type AND #topic = :topic AND contains(#tags, :tag)',
        names: { '#seen': 'seen', '#type': 'type', '#topic': 'topic', '#tags': 'tags' },
        values: { ':fTrue': true, ':type': 'a.b', ':topic': 'p.1', ':tag': 'team' },
      },
    });
    expect(planOf({ archived: true })).toEqual({
      index: 'hidden',
      filter: {
        expression: '#archived = :fTrue AND attribute_not_exists(#snoozedUntil)',
        names: { '#archived': 'archived', '#snoozedUntil': 'snoozedUntil' },
        values: { ':fTrue': true },
      },
    });
  });
});

describe('narrowed', () => {
  it('reads only what still needs the action, and nothing when nothing can', () => {
    expect(narrowed('read', { tag: 'x' })).toEqual({ tag: 'x', read: false });
    expect(narrowed('read', { read: true })).toBeUndefined();
    expect(narrowed('seen', {})).toEqual({ seen: false });
    expect(narrowed('archive', { archived: true })).toBeUndefined();
    expect(narrowed('unarchive', {})).toBeUndefined();
    expect(narrowed('unarchive', { archived: true })).toEqual({ archived: true });
    expect(narrowed('delete', { archived: true })).toEqual({ archived: true });
  });
});
