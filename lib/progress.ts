/**
 * @module One progress reporter per tool call. The MCP spec requires each
 * progress notification's value to be larger than the last; tools report
 * "nodes done" counts, which repeat while they poll. A repeated or smaller
 * count becomes a fraction on the way to the next whole step (1/2, 2/3,
 * 3/4, ...), so the sequence always increases and never passes `total`.
 */
export class MonotonicProgress {
  private last = -Infinity;
  private base = 0;
  private repeats = 0;

  /** The value to send for a report of `progress`, or undefined when none can be sent without going back. */
  next(progress: number, total?: number): number | undefined {
    let value: number;
    if (progress > this.last) {
      this.base = progress;
      this.repeats = 0;
      value = progress;
    } else {
      this.repeats++;
      value = this.base + this.repeats / (this.repeats + 1);
    }
    if (!(value > this.last) || (total !== undefined && value > total)) return undefined;
    this.last = value;
    return value;
  }
}
