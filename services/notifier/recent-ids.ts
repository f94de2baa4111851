/**
 * The ids of the last `capacity` events delivered to the external broker.
 * An internal event comes again when its accept was lost (the internal
 * connection dropped after the external send) or when the outbox relay
 * published it twice; either way it is dropped rather than sent again.
 * Bounded, so memory stays flat however long the notifier runs.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 10_000) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}
