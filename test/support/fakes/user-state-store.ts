import type { StateApplied, StateMarker, UserStateStore } from '#core/ports';
import type { AppState } from '#core/user-state';

/** The state hashes and markers in memory; a change applies once per marker id until it expires. */
export class FakeUserStateStore implements UserStateStore {
  readonly states = new Map<string, AppState>();
  readonly markers = new Map<string, number>();

  async read(tenant: string, userId: string): Promise<AppState> {
    return { ...(this.states.get(`${tenant}\u0000${userId}`) ?? {}) };
  }

  async apply(
    tenant: string,
    userId: string,
    marker: StateMarker,
    next: (current: AppState) => AppState,
  ): Promise<StateApplied> {
    const key = `${tenant}\u0000${userId}`;
    const markerKey = `${key}\u0000${marker.id}`;
    const current = { ...(this.states.get(key) ?? {}) };
    const expiresAt = this.markers.get(markerKey);
    if (expiresAt !== undefined && expiresAt > Math.floor(marker.now / 1000)) {
      return { applied: false, state: current };
    }
    const state = next(current);
    this.states.set(key, state);
    this.markers.set(markerKey, marker.expiresAt);
    return { applied: true, state: { ...state } };
  }
}
