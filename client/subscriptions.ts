/**
 * The topics the client is subscribed to, carried over to every new socket: subscribed
 * again after a reconnect, and on a rotation's new socket before the old one goes. Topics
 * the server now refuses (a new token may grant less) are dropped and reported.
 */
import type { ErrorBody } from '../functions/core/frames';
import type { Socket } from './reconnecting-socket';
import type { HeraldRequestError, RequestResult } from './request-table';

/** The server accepts at most this many topics per subscribe frame. */
const MAX_TOPICS_PER_REQUEST = 20;
/** Codes with which the server refuses topics for good: no point asking again. */
const REFUSALS = new Set(['forbidden', 'bad_request']);

type TopicAction = 'subscribe' | 'unsubscribe';

export interface SubscriptionsDeps {
  /** Sends a request on this very socket (not whichever is active). */
  request(action: TopicAction, args: { topics: string[] }, socket: Socket): Promise<RequestResult>;
  isLive(socket: Socket): boolean;
  /** A topic could not be subscribed or unsubscribed again. */
  error(error: ErrorBody): void;
}

export class Subscriptions {
  private readonly topics = new Set<string>();

  constructor(private readonly deps: SubscriptionsDeps) {}

  get list(): string[] {
    return [...this.topics];
  }

  /** Records topics the server confirmed subscribing to. */
  add(topics: string[]): void {
    for (const topic of topics) this.topics.add(topic);
  }

  /** Records topics the server confirmed unsubscribing from. */
  remove(topics: string[]): void {
    for (const topic of topics) this.topics.delete(topic);
  }

  /** Subscribes a new socket to the current topics; returns the topics it asked for. */
  async restore(socket: Socket): Promise<string[]> {
    const topics = [...this.topics];
    await this.sync(socket, 'subscribe', topics);
    return topics;
  }

  /**
   * Makes a rotation's new socket carry the current topics, including (un)subscribes the
   * old socket confirmed while the new one was being subscribed.
   */
  async carryOver(socket: Socket): Promise<void> {
    const restored = await this.restore(socket);
    if (!this.deps.isLive(socket)) return;
    const added = [...this.topics].filter((topic) => !restored.includes(topic));
    const dropped = restored.filter((topic) => !this.topics.has(topic));
    void this.sync(socket, 'subscribe', added);
    void this.sync(socket, 'unsubscribe', dropped);
  }

  /** Sends the client's own (un)subscribes, in chunks the server accepts; reports failures. */
  private async sync(
    socket: Socket,
    action: TopicAction,
    topics: string[],
    chunkSize = MAX_TOPICS_PER_REQUEST,
  ): Promise<void> {
    const requests: Promise<void>[] = [];
    for (let start = 0; start < topics.length; start += chunkSize) {
      const chunk = topics.slice(start, start + chunkSize);
      const request = this.deps.request(action, { topics: chunk }, socket).then(
        () => undefined,
        (error: HeraldRequestError): Promise<void> | undefined => {
          const refused = action === 'subscribe' && REFUSALS.has(error.code);
          // One refused topic fails its whole frame: ask one at a time to keep the others.
          if (refused && chunk.length > 1) return this.sync(socket, action, chunk, 1);
          if (refused) for (const topic of chunk) this.topics.delete(topic);
          const message = `could not ${action} ${chunk.join(', ')} again: ${error.message}`;
          this.deps.error({ code: error.code, message });
          return undefined;
        },
      );
      requests.push(request);
    }
    await Promise.all(requests);
  }
}
