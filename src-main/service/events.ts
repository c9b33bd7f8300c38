/** The service's event streams: subscribers per event, and an emit that a subscriber's bug cannot break. */
import type { EventName, Events } from '../contract/index.js';

export class EventHub {
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>();

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => void set!.delete(listener as (payload: never) => void);
  }

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as (p: Events[E]) => void)(payload);
      } catch {
        // a subscriber's bug must not stop training bookkeeping
      }
    }
  }
}
