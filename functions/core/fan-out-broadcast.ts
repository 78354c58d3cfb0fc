/**
 * A topic broadcast split into pages, so that a big audience is posted by many invocations
 * side by side instead of by one after another. Each page goes out as one `broadcast-page`
 * task; no invocation posts more than a page.
 */
import type { FanOutPush } from './fan-out-push';
import { frameOf } from './fan-out-push';
import type { FanOutReport } from './fan-out-report';
import type { FanOutSettings } from './fan-out-settings';
import type { ConnectionRef, Envelope } from './model';
import type { ConnectionStore, Continuations, FanOutTask } from './ports';

/** Pages a broadcast walks at a time before handing them on: one SendMessageBatch's worth. */
export const PAGES_PER_WALK = 10;

/** What a broadcast sends: an envelope, as published at `publishedAt`, to a topic. */
export interface Broadcast {
  envelope: Envelope;
  topic: string;
  publishedAt: number;
}

export interface BroadcastDeps {
  connections: Pick<ConnectionStore, 'listForTopic' | 'topicPages'>;
  continuations: Continuations;
  push: FanOutPush;
  settings: Pick<FanOutSettings, 'pageSize' | 'walkPages'>;
}

export function createBroadcaster(deps: BroadcastDeps) {
  const { settings } = deps;

  function pageTask(broadcast: Broadcast, range: { cursor: string; until?: string }): FanOutTask {
    const { envelope, publishedAt } = broadcast;
    return { kind: 'broadcast-page', envelope, publishedAt, ...range };
  }

  async function postPage(
    broadcast: Broadcast,
    connections: ConnectionRef[],
    report: FanOutReport,
  ): Promise<void> {
    const { envelope, publishedAt } = broadcast;
    const frame = frameOf(envelope, publishedAt);
    await deps.push.toConnections(
      connections,
      frame,
      { envelope, publishedAt, attempt: 0 },
      report,
    );
  }

  return {
    /**
     * Broadcasts to the topic's subscribers after `cursor` (all of them without one). Posts
     * the first page itself; when the topic goes on, it first walks the keys of up to
     * `settings.walkPages` further pages and hands each on as a task of its own, a batch at
     * a time, so that they are posted side by side instead of each waiting for the one
     * before. Whatever lies beyond goes to one more task like this one, handed on last: a
     * redelivery of this message before then re-sends pages (clients drop repeats by id)
     * but the remainder only once, so a crash never multiplies the walks that follow.
     */
    async from(broadcast: Broadcast, report: FanOutReport, cursor?: string): Promise<void> {
      const { envelope, topic } = broadcast;
      const { tenant } = envelope;
      const { pageSize } = settings;
      const first = await deps.connections.listForTopic(tenant, topic, { cursor, limit: pageSize });
      let rest = first.cursor;
      for (let walked = 0; rest !== undefined && walked < settings.walkPages; ) {
        const from: string = rest;
        const maxPages = Math.min(PAGES_PER_WALK, settings.walkPages - walked);
        const found = await deps.connections.topicPages(tenant, topic, {
          cursor: from,
          pageSize,
          maxPages,
        });
        await deps.continuations.enqueueMany(
          found.pages.map((range) =>
            pageTask(broadcast, { cursor: range.cursor ?? from, until: range.until }),
          ),
        );
        walked += found.pages.length;
        rest = found.rest;
      }
      await postPage(broadcast, first.items, report);
      if (rest !== undefined)
        await deps.continuations.enqueue(pageTask(broadcast, { cursor: rest }));
    },

    /**
     * Posts one page a walk found: the subscribers after `cursor` up to `until`. Subscribers
     * that joined inside the range since can make it longer than a page: the excess is
     * handed on, still bounded by `until`, so no invocation posts more than a page.
     */
    async range(
      broadcast: Broadcast,
      report: FanOutReport,
      range: { cursor: string; until: string },
    ): Promise<void> {
      const page = await deps.connections.listForTopic(broadcast.envelope.tenant, broadcast.topic, {
        ...range,
        limit: settings.pageSize,
      });
      if (page.cursor) {
        await deps.continuations.enqueue(
          pageTask(broadcast, { cursor: page.cursor, until: range.until }),
        );
      }
      await postPage(broadcast, page.items, report);
    },
  };
}

export type Broadcaster = ReturnType<typeof createBroadcaster>;
