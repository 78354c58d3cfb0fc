import { describe, expect, it } from 'vitest';
import type { Identity } from '#core/model';
import {
  isValidTopic,
  isValidTopicPattern,
  MAX_TOPIC_LENGTH,
  mayAccessTopic,
  topicMatches,
} from '#core/topics';

describe('isValidTopic', () => {
  it.each(['project', 'project.42', 'org.acme.team-a.board_1', 'A-Z_0-9'])(
    'accepts %j',
    (topic) => {
      expect(isValidTopic(topic)).toBe(true);
    },
  );

  it.each([
    ['empty', ''],
    ['wildcard *', 'project.*'],
    ['wildcard >', 'org.>'],
    ['empty token in the middle', 'a..b'],
    ['leading dot', '.a'],
    ['trailing dot', 'a.'],
    ['space', 'a b'],
    ['slash', 'a/b'],
    ['hash (key separator)', 'a#b'],
    ['non-ASCII', 'café'],
    ['too long', 'a'.repeat(MAX_TOPIC_LENGTH + 1)],
    ['not a string', 42],
    ['undefined', undefined],
  ])('refuses %s', (_, topic) => {
    expect(isValidTopic(topic)).toBe(false);
  });
});

describe('isValidTopicPattern', () => {
  it.each(['project.42', 'project.*', '*', '*.x', 'a.*.c', '>', 'org.acme.>', '*.>'])(
    'accepts %j',
    (pattern) => {
      expect(isValidTopicPattern(pattern)).toBe(true);
    },
  );

  it.each([
    ['empty', ''],
    ['> not last', 'org.>.x'],
    ['> glued to a token', 'org.acme>'],
    ['* glued to a token', 'project*'],
    ['double star', 'a.**'],
    ['empty token', 'a..>'],
    ['trailing dot', 'a.*.'],
    ['space', 'a.* b'],
    ['too long', `${'a.'.repeat(MAX_TOPIC_LENGTH / 2)}>`],
    ['not a string', ['a']],
  ])('refuses %s', (_, pattern) => {
    expect(isValidTopicPattern(pattern)).toBe(false);
  });
});

describe('topicMatches', () => {
  it.each([
    ['project.*', 'project.42', true],
    ['project.*', 'project.42.x', false],
    ['project.*', 'project', false],
    ['project.*', 'other.42', false],
    ['org.acme.>', 'org.acme', false],
    ['org.acme.>', 'org.acme.a', true],
    ['org.acme.>', 'org.acme.a.b', true],
    ['org.acme.>', 'org.other.a', false],
    ['project.42', 'project.42', true],
    ['project.42', 'project.43', false],
    ['project.42', 'project.42.x', false],
    ['project.42', 'project', false],
    ['*', 'anything', true],
    ['*', 'two.tokens', false],
    ['>', 'one', true],
    ['>', 'one.two.three', true],
    ['*.>', 'a', false],
    ['*.>', 'a.b', true],
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.b.d', false],
    ['Project.42', 'project.42', false],
  ])('%j vs %j -> %s', (pattern, topic, expected) => {
    expect(topicMatches(pattern, topic)).toBe(expected);
  });

  it('is false for a malformed pattern or topic, whatever they look like', () => {
    expect(topicMatches('org.>.x', 'org.a.x')).toBe(false);
    expect(topicMatches('project.*', 'project.*')).toBe(false);
    expect(topicMatches('>', 'org.>')).toBe(false);
    expect(topicMatches('a', '')).toBe(false);
  });
});

describe('mayAccessTopic', () => {
  const identity: Identity = {
    tenant: 'acme',
    userId: 'alice',
    topicPatterns: ['project.*', 'org.acme.>'],
  };

  it('allows a topic any pattern covers', () => {
    expect(mayAccessTopic(identity, 'project.42')).toBe(true);
    expect(mayAccessTopic(identity, 'org.acme.team.board')).toBe(true);
  });

  it('refuses a topic no pattern covers, and wildcards as topics', () => {
    expect(mayAccessTopic(identity, 'project.42.secret')).toBe(false);
    expect(mayAccessTopic(identity, 'org.acme')).toBe(false);
    expect(mayAccessTopic(identity, 'project.*')).toBe(false);
  });

  it('refuses everything when the token grants no patterns', () => {
    expect(mayAccessTopic({ ...identity, topicPatterns: [] }, 'project.42')).toBe(false);
  });
});
