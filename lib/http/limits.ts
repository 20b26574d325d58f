/**
 * @module Per-caller limits on the HTTP transport: a token bucket (requests per second, and a burst) and
 * a bound on requests in flight, so one agent in a loop cannot starve the others or flood the nodes.
 * Keyed by caller id (the token's subject, static-token, anonymous).
 */

export interface LimitOptions {
  /** Requests per second refilled into each caller's bucket; 0 = no rate limit. */
  ratePerSecond: number;
  /** Bucket size: requests a caller may send at once after a pause. */
  burst: number;
  /** Requests of one caller in flight at once; 0 = unbounded (the global TALOS_MCP_HTTP_MAX_INFLIGHT still holds). */
  maxConcurrent: number;
}

interface Bucket {
  tokens: number;
  at: number;
  inFlight: number;
}

/** Idle callers are forgotten after this long, so the map does not grow with every subject ever seen. */
const FORGET_MS = 10 * 60_000;

export class CallerLimits {
  #buckets = new Map<string, Bucket>();
  #sweptAt = 0;

  constructor(readonly o: LimitOptions, readonly now: () => number = () => performance.now()) {}

  /**
   * Takes one request for `caller`: `release` when it may go on (call it when the request ends),
   * else how many seconds to wait (Retry-After) and why.
   */
  acquire(caller: string): { release: () => void } | { retryAfterS: number; why: string } {
    const now = this.now();
    this.#sweep(now);
    let b = this.#buckets.get(caller);
    if (!b) this.#buckets.set(caller, b = { tokens: this.o.burst, at: now, inFlight: 0 });
    if (this.o.maxConcurrent && b.inFlight >= this.o.maxConcurrent) {
      return {
        retryAfterS: 1,
        why:
          `${this.o.maxConcurrent} requests of caller "${caller}" already in flight (TALOS_MCP_MAX_CONCURRENT_PER_CALLER)`,
      };
    }
    if (this.o.ratePerSecond) {
      b.tokens = Math.min(this.o.burst, b.tokens + ((now - b.at) / 1000) * this.o.ratePerSecond);
      b.at = now;
      if (b.tokens < 1) {
        return {
          retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / this.o.ratePerSecond)),
          why: `caller "${caller}" is over ${this.o.ratePerSecond} requests per second (burst ${this.o.burst}; ` +
            `TALOS_MCP_RATE_LIMIT, TALOS_MCP_RATE_BURST)`,
        };
      }
      b.tokens -= 1;
    }
    b.inFlight++;
    const bucket = b;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        bucket.inFlight--;
      },
    };
  }

  #sweep(now: number): void {
    if (now - this.#sweptAt < FORGET_MS) return;
    this.#sweptAt = now;
    for (const [k, b] of this.#buckets) if (!b.inFlight && now - b.at > FORGET_MS) this.#buckets.delete(k);
  }
}
