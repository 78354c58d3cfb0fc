/** A small typed event emitter: listeners by event name, each called with that event's payload. */

export type Listener<T> = (payload: T) => void;

/** What a module that only emits is given: an emitter of (at least) these events. */
export interface EventSink<Events> {
  emit<K extends keyof Events>(event: K, payload: Events[K]): void;
}

export class Emitter<Events> implements EventSink<Events> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** Calls every listener of `event`, in the order added, even if one of them throws. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        // A failing listener must not break its emitter; surface it without catching it.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
