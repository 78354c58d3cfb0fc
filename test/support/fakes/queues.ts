import type { Continuations, DeadLetters, FanOutTask } from '#core/ports';

export class FakeContinuations implements Continuations {
  readonly tasks: Array<{ task: FanOutTask; delaySeconds?: number }> = [];
  /** Shared with other fakes to record the order of side effects (`enqueue <kind>`). */
  journal: string[] | undefined;
  /** When set, every enqueue throws it (SQS unavailable). */
  failure: Error | undefined;
  async enqueue(task: FanOutTask, delaySeconds?: number): Promise<void> {
    if (this.failure) throw this.failure;
    this.journal?.push(`enqueue ${task.kind}`);
    this.tasks.push({ task, delaySeconds });
  }
  /** Journals each call once (`enqueue many <n>`), as the adapter sends them in batches. */
  async enqueueMany(tasks: readonly FanOutTask[]): Promise<void> {
    if (this.failure) throw this.failure;
    this.journal?.push(`enqueue many ${tasks.length}`);
    for (const task of tasks) this.tasks.push({ task });
  }
}

export class FakeDeadLetters implements DeadLetters {
  readonly rejected: Array<{ body: string; reason: string }> = [];
  async reject(body: string, reason: string): Promise<void> {
    this.rejected.push({ body, reason });
  }
}
