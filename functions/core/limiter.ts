/**
 * Runs async work with at most `limit` tasks in flight. One limiter is shared by
 * everything an invocation sends, so the bound holds across the records of a batch,
 * not per record.
 */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createLimiter(limit: number): Limiter {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be >= 1, got ${limit}`);
  let active = 0;
  // A queue with a moving head: shift() on an array of thousands of waiters (a big page)
  // would copy the rest on every hand-over.
  let waiting: Array<(() => void) | undefined> = [];
  let head = 0;
  return {
    async run(task) {
      // A finishing task hands its slot straight to the next waiter, so a newcomer can
      // never slip in between and push the count over the limit.
      if (active < limit) active++;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        const next = waiting[head];
        if (next) {
          waiting[head++] = undefined;
          if (head === waiting.length) {
            waiting = [];
            head = 0;
          }
          next();
        } else active--;
      }
    },
  };
}

/** Maps every item through `fn` with at most `limit` calls in flight; keeps input order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const limiter = createLimiter(limit);
  return Promise.all(items.map((item) => limiter.run(() => fn(item))));
}
