import type { EmailContinuations, EmailTask } from '#core/email-tasks';

/** Email tasks handed on, in order, with their delays; `take()` drains them like a queue. */
export class FakeEmailContinuations implements EmailContinuations {
  readonly tasks: Array<{ task: EmailTask; delaySeconds?: number }> = [];
  async enqueue(task: EmailTask, delaySeconds?: number): Promise<void> {
    this.tasks.push({ task, delaySeconds });
  }
  async enqueueMany(tasks: readonly EmailTask[]): Promise<void> {
    for (const task of tasks) this.tasks.push({ task });
  }
  /** Removes and returns up to `count` of the oldest tasks (a queue's receive). */
  take(count: number): EmailTask[] {
    return this.tasks.splice(0, count).map((entry) => entry.task);
  }
}
