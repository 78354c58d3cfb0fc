import { describe, expect, it } from 'vitest';
import type { FanOutSettings } from '#core/fan-out';
import {
  connection,
  drain,
  envelope,
  FIRST,
  PUBLISHED_AT,
  REDELIVERED,
  setup,
} from '#test/support/fan-out-fixtures';

describe('a big broadcast split into pages', () => {
  const TOPIC = 'launch';
  const id = (i: number) => `c${String(i).padStart(6, '0')}`;

  /**
   * A fan-out over a topic of `count` subscribers, recording every walk and listing the
   * store is asked for, and the connection ids of every `until` a walk found.
   */
  async function broadcast(count: number, settings: Partial<FanOutSettings>) {
    const world = setup(settings);
    for (let i = 0; i < count; i++) {
      await world.connect(connection(id(i), `user${i}`, { topics: [TOPIC] }));
    }
    const { store } = world;
    const walks: Array<string | undefined> = [];
    const walked: string[] = [];
    const listings: Array<{ cursor?: string; until?: string }> = [];
    const walk = store.topicPages.bind(store);
    store.topicPages = async (tenant, topic, options) => {
      walks.push(options.cursor);
      const found = await walk(tenant, topic, options);
      walked.push(...found.pages.map((page) => page.until));
      return found;
    };
    const list = store.listForTopic.bind(store);
    store.listForTopic = async (tenant, topic, page) => {
      listings.push({ cursor: page.cursor, until: page.until });
      return list(tenant, topic, page);
    };
    return { ...world, walks, walked, listings };
  }

  function postsPer(posts: Array<{ connectionId: string }>) {
    const counts = new Map<string, number>();
    for (const { connectionId } of posts) {
      counts.set(connectionId, (counts.get(connectionId) ?? 0) + 1);
    }
    return counts;
  }

  it('posts to each of 10,000 subscribers once, one task per page, walking each page once', async () => {
    const { fanOut, delivery, continuations, walks, walked, listings } = await broadcast(10_000, {
      pageSize: 1_000,
    });

    await fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    const ran = await drain(fanOut, continuations);

    // The publish and nine page tasks: one invocation per page of 1,000.
    expect(ran).toHaveLength(9);
    expect(ran.every((task) => task.kind === 'broadcast-page' && task.until !== undefined)).toBe(
      true,
    );
    expect(listings).toHaveLength(10);
    // One walk, by the publish, from the end of its own page; each page's end found once.
    expect(walks).toEqual([id(999)]);
    expect(walked).toEqual(Array.from({ length: 9 }, (_, page) => id(page * 1_000 + 1_999)));
    const posts = postsPer(delivery.posts);
    expect(posts.size).toBe(10_000);
    expect(delivery.posts).toHaveLength(10_000);
    expect([...posts.values()].every((count) => count === 1)).toBe(true);
  });

  it('makes no empty page of a topic an exact multiple of the page size long', async () => {
    const exact = await broadcast(20, { pageSize: 10 });
    await exact.fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    expect(await drain(exact.fanOut, exact.continuations)).toHaveLength(1);
    expect(exact.listings).toHaveLength(2);
    expect(exact.delivery.posts).toHaveLength(20);

    const oneMore = await broadcast(21, { pageSize: 10 });
    await oneMore.fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    expect(await drain(oneMore.fanOut, oneMore.continuations)).toHaveLength(2);
    expect(postsPer(oneMore.delivery.posts).size).toBe(21);
  });

  it('walks a small topic not at all: one listing, no task', async () => {
    const { fanOut, delivery, continuations, walks, listings } = await broadcast(10, {
      pageSize: 10,
    });
    await fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    expect(listings).toHaveLength(1);
    expect(walks).toEqual([]);
    expect(continuations.tasks).toEqual([]);
    expect(delivery.posts).toHaveLength(10);
  });

  it('walks at most walkPages pages, handing the remainder on last, to a task that walks on', async () => {
    const { fanOut, delivery, continuations, walks } = await broadcast(100, {
      pageSize: 10,
      walkPages: 3,
    });
    const journal: string[] = [];
    continuations.journal = journal;
    const env = envelope({ topic: TOPIC });

    await fanOut.publish(env, FIRST);

    expect(journal).toEqual(['enqueue many 3', 'enqueue broadcast-page']);
    expect(continuations.tasks.at(-1)?.task).toEqual({
      kind: 'broadcast-page',
      envelope: env,
      publishedAt: PUBLISHED_AT,
      cursor: id(39),
    });
    const ran = await drain(fanOut, continuations);
    // Ten pages, ten invocations: each remainder task posts a page of its own too.
    expect(ran).toHaveLength(9);
    expect(walks).toEqual([id(9), id(49), id(89)]);
    const posts = postsPer(delivery.posts);
    expect(posts.size).toBe(100);
    expect([...posts.values()].every((count) => count === 1)).toBe(true);
  });

  it('loses no page when the publish crashes half-way through handing them on', async () => {
    const { fanOut, delivery, continuations } = await broadcast(250, { pageSize: 10 });
    const handOn = continuations.enqueueMany.bind(continuations);
    let calls = 0;
    continuations.enqueueMany = async (tasks) => {
      calls++;
      // The first attempt dies after handing on the first ten of its 24 pages.
      if (calls === 2) throw new Error('Lambda timed out');
      await handOn(tasks);
    };
    const env = envelope({ topic: TOPIC });

    await expect(fanOut.publish(env, FIRST)).rejects.toThrow('Lambda timed out');
    expect(continuations.tasks).toHaveLength(10);
    expect(delivery.posts).toEqual([]);
    // SQS delivers the message again: it walks again and hands every page on once more.
    await fanOut.publish(env, REDELIVERED);
    expect(continuations.tasks).toHaveLength(34);
    const ran = await drain(fanOut, continuations);

    expect(ran).toHaveLength(34);
    const posts = postsPer(delivery.posts);
    expect(posts.size).toBe(250);
    // Pages 2 to 11 were handed on twice, and are posted twice; clients drop the repeat by id.
    expect(delivery.posts).toHaveLength(350);
    expect([...posts.values()].every((count) => count <= 2)).toBe(true);
  });

  it('hands a remainder on once when a crash comes before it, and re-posts a redelivered page', async () => {
    const { fanOut, delivery, continuations } = await broadcast(40, { pageSize: 10, walkPages: 2 });
    const handOn = continuations.enqueue.bind(continuations);
    let failures = 1;
    continuations.enqueue = async (task, delay) => {
      if (failures-- > 0) throw new Error('SQS unavailable');
      await handOn(task, delay);
    };
    const env = envelope({ topic: TOPIC });

    await expect(fanOut.publish(env, FIRST)).rejects.toThrow('SQS unavailable');
    await fanOut.publish(env, REDELIVERED);
    const remainders = continuations.tasks.filter(
      ({ task }) => task.kind === 'broadcast-page' && task.until === undefined,
    );
    expect(remainders).toHaveLength(1);
    // The first page task handed on is delivered twice, as SQS may.
    const page = continuations.tasks.shift();
    if (!page) throw new Error('no page handed on');
    await fanOut.run(page.task);
    await fanOut.run(page.task);
    await drain(fanOut, continuations);

    const posts = postsPer(delivery.posts);
    const timesPosted = (page: number) =>
      new Set(Array.from({ length: 10 }, (_, i) => posts.get(id(page * 10 + i))));
    // Page 1 by both attempts; page 2 by the first attempt's task (twice) and the second's;
    // page 3 by both attempts' tasks; page 4 by the one remainder.
    expect([0, 1, 2, 3].map(timesPosted)).toEqual([
      new Set([2]),
      new Set([3]),
      new Set([2]),
      new Set([1]),
    ]);
  });

  it('posts subscribers who joined inside a page after the walk, and none twice', async () => {
    const { fanOut, delivery, continuations, connect } = await broadcast(20, { pageSize: 10 });
    await fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    expect(continuations.tasks).toHaveLength(1);
    // Joiners sorting inside the second page's range, and one after every range.
    const joiners = ['c000012a', 'c000012b', 'c000012c', 'c000015a'];
    for (const joiner of [...joiners, 'c999999']) {
      await connect(connection(joiner, 'late', { topics: [TOPIC] }));
    }

    const ran = await drain(fanOut, continuations);

    // The page overflows by four: the excess goes to one more task, bounded by the same end.
    expect(ran).toHaveLength(2);
    expect(ran[1]).toMatchObject({ cursor: 'c000015a', until: id(19) });
    const posts = postsPer(delivery.posts);
    expect(posts.size).toBe(24);
    expect(joiners.every((joiner) => posts.get(joiner) === 1)).toBe(true);
    expect([...posts.values()].every((count) => count === 1)).toBe(true);
  });
});
