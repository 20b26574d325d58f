/** @module A per-call deadline for tool calls (HTTP: TALOS_MCP_HTTP_CALL_DEADLINE_MS). */
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";

/**
 * Aborts the tool's signal (so its Talos calls stop) and fails the call with
 * RequestTimeout. A plain timer, cleared when the call ends: AbortSignal.timeout
 * would keep every finished call's signal alive for the whole deadline, which
 * under load is most of the heap.
 */
export class Deadline {
  private readonly ac = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly onParentAbort = () => this.ac.abort(this.parent.reason);

  constructor(private readonly ms: number, private readonly parent: AbortSignal) {
    this.timer = setTimeout(() => this.ac.abort(new Error("deadline")), ms);
    parent.addEventListener("abort", this.onParentAbort, { once: true });
  }

  /** Aborts when the deadline passes or the parent (the client's cancellation) aborts. */
  get signal(): AbortSignal {
    return this.ac.signal;
  }

  /** `running`, or a RequestTimeout McpError naming `name` once the deadline passes first. */
  race<T>(running: Promise<T>, name: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = () =>
        reject(
          new McpError(
            ErrorCode.RequestTimeout,
            `${name} did not finish within ${this.ms} ms (TALOS_MCP_HTTP_CALL_DEADLINE_MS); ask for fewer nodes ` +
              `or less data, or raise the deadline.`,
          ),
        );
      if (this.ac.signal.aborted && !this.parent.aborted) return fail();
      this.ac.signal.addEventListener("abort", () => this.parent.aborted || fail(), { once: true });
      running.then(resolve, reject);
    });
  }

  /** Stops the timer and detaches from the parent signal; call when the tool call ends. */
  clear(): void {
    clearTimeout(this.timer);
    this.parent.removeEventListener("abort", this.onParentAbort);
  }
}
