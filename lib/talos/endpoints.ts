/**
 * @module Which of a context's endpoints to dial, in order. The talosconfig's order is the preference;
 * an endpoint that could not be reached is avoided for a while (30 s, doubling while it keeps failing,
 * at most 5 min) so that calls do not dial it first each time, then tried first again: the preferred
 * endpoint returns once it is healthy. Avoided endpoints stay at the end of the order, a last resort.
 */

export const AVOID_MS = 30_000;
export const AVOID_MAX_MS = 5 * 60_000;

export class EndpointHealth {
  /** Until when each endpoint is avoided (clock ms; 0 = not avoided). */
  private readonly until: number[];
  /** Failures in a row per endpoint, for the doubling window; reset by a success. */
  private readonly strikes: number[];
  private readonly natural: readonly number[];
  /** Whether any window may still be open: the happy path checks only this. */
  private avoiding = false;

  constructor(count: number, private readonly now: () => number = Date.now) {
    this.until = new Array(count).fill(0);
    this.strikes = new Array(count).fill(0);
    this.natural = Object.freeze([...Array(count).keys()]);
  }

  /** Endpoint indexes to try, in order: the talosconfig's, avoided ones last. */
  order(): readonly number[] {
    if (!this.avoiding) return this.natural;
    const now = this.now();
    const first: number[] = [];
    const last: number[] = [];
    for (const i of this.natural) (this.until[i] > now ? last : first).push(i);
    if (!last.length) this.avoiding = false;
    return [...first, ...last];
  }

  /** Whether `i` is inside its avoid window. */
  avoided(i: number): boolean {
    return this.until[i] > this.now();
  }

  /**
   * Endpoint `i` could not be reached: avoid it. Returns false when it already was (concurrent calls
   * failing on it together count once, so a fan-out does not jump the window to its cap).
   */
  failed(i: number): boolean {
    const now = this.now();
    if (this.until[i] > now) return false;
    const window = Math.min(AVOID_MAX_MS, AVOID_MS * 2 ** this.strikes[i]);
    this.strikes[i]++;
    this.until[i] = now + window;
    this.avoiding = true;
    return true;
  }

  /** Endpoint `i` answered: it is healthy again. */
  succeeded(i: number): void {
    if (this.strikes[i] === 0) return;
    this.strikes[i] = 0;
    this.until[i] = 0;
  }
}
