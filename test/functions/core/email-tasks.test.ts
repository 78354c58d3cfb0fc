import { describe, expect, it } from 'vitest';
import { EmailBudget, recipientsOf, sliceTasks } from '#core/email-tasks';
import { parseEnvelope } from '#core/envelope';

const envelope = parseEnvelope({
  id: 'evt-1',
  type: 'digest.ready',
  to: { users: ['a', 'b', 'c', 'd', 'e'] },
  channels: ['email'],
  data: { k: 1 },
});

describe('sliceTasks', () => {
  it('covers the users once, in order, in slices of at most `size`, keeping the envelope', () => {
    const tasks = sliceTasks(envelope, 123, ['a', 'b', 'c', 'd', 'e'], { size: 2, attempt: 0 });
    expect(tasks.map(recipientsOfTask)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    for (const task of tasks) {
      expect(task).toMatchObject({ kind: 'email-recipients', publishedAt: 123, attempt: 0 });
      expect({ ...task.envelope, to: envelope.to }).toEqual(envelope);
    }
  });

  it('makes no task for no users', () => {
    expect(sliceTasks(envelope, 1, [], { size: 5, attempt: 0 })).toEqual([]);
  });
});

describe('EmailBudget', () => {
  it('grants what is left, and nothing once spent', () => {
    const budget = new EmailBudget(50);
    expect(budget.take(40)).toBe(40);
    expect(budget.take(40)).toBe(10);
    expect(budget.take(1)).toBe(0);
  });
});

describe('recipientsOf', () => {
  it('is empty for a topic audience', () => {
    expect(recipientsOf({ ...envelope, to: { topic: 'project.1' } })).toEqual([]);
  });
});

function recipientsOfTask(task: { envelope: typeof envelope }) {
  return recipientsOf(task.envelope);
}
