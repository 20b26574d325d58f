/**
 * @module Turns a failed Talos call into a message an agent can act on: what
 * failed, on which node, and what to do about it (SAN mismatches, expired or foreign
 * certificates, missing roles, unreachable nodes, oversized replies).
 */
import { GRPC_CODE_NAMES, ToolError } from "../errors.ts";
import { rolesFor } from "./rbac.ts";
import type { TalosContext } from "./talosconfig.ts";

export interface CallInfo {
  /** Full gRPC path, e.g. /machine.MachineService/Version. */
  method: string;
  node?: string;
  endpoint: string;
  ctx: TalosContext;
  timeoutMs: number;
  /** The connection to the endpoint itself failed (as opposed to apid's hop to the node). */
  endpointFailed?: boolean;
}

interface GrpcLikeError {
  code?: number;
  details?: string;
  message?: string;
}

const shortMethod = (m: string) => m.replace(/^\/[^/]*\./, "").replace("/", ".");

/** A ToolError describing `err`, which came from the call described by `info`. */
export function explainCallError(err: unknown, info: CallInfo): ToolError {
  const e = (err ?? {}) as GrpcLikeError;
  const code = typeof e.code === "number" ? e.code : 2;
  const name = GRPC_CODE_NAMES[code] ?? `code ${code}`;
  const detail = (e.details || e.message || String(err)).trim();
  const where = info.node ? `node ${info.node}` : `endpoint ${info.endpoint}`;
  const call = shortMethod(info.method);
  const tls = tlsHint(detail, info);
  if (tls) return new ToolError(tls, "TLS");
  switch (code) {
    case 7: { // PERMISSION_DENIED
      const need = rolesFor(info.method);
      const have = info.ctx.cert.roles.length ? info.ctx.cert.roles.join(", ") : "none";
      return new ToolError(
        `PERMISSION_DENIED on ${where} for ${call}: ${detail}. The certificate of context "${info.ctx.name}" ` +
          `has roles [${have}]; this call needs one of [${need.join(", ")}]` +
          (need.length === 1 ? "" : " (sensitive resources need os:admin)") +
          `. Use a context whose certificate carries that role.`,
        "PERMISSION_DENIED",
      );
    }
    case 4: // DEADLINE_EXCEEDED
      return new ToolError(
        `${where} did not answer ${call} within ${Math.round(info.timeoutMs / 100) / 10}s. The node may be ` +
          `overloaded or rebooting; retry later, or raise TALOS_MCP_TIMEOUT_MS.`,
        "DEADLINE_EXCEEDED",
      );
    case 14: // UNAVAILABLE
      if (info.endpointFailed) return unreachableEndpoint(info, detail);
      return new ToolError(
        `${where} is unreachable through endpoint ${info.endpoint} (${detail}). Check that the node is up ` +
          `and that the endpoint can reach it on port 50000.`,
        "UNAVAILABLE",
      );
    case 12: // UNIMPLEMENTED
      return new ToolError(
        `${where} does not implement ${call} (${detail}); its Talos version is probably too old or too new ` +
          `for this call.`,
        "UNIMPLEMENTED",
      );
    case 5: // NOT_FOUND
      return new ToolError(`${call} on ${where}: not found (${detail}).`, "NOT_FOUND");
    default:
      return new ToolError(`${call} on ${where} failed: ${name}: ${detail}`, name);
  }
}

function unreachableEndpoint(info: CallInfo, detail: string): ToolError {
  return new ToolError(
    `Cannot connect to Talos endpoint ${info.endpoint} of context "${info.ctx.name}" (${
      detail.replace(/^No connection established\. Last error: /, "")
    }). Check that the address is right (talosconfig endpoints or TALOS_ENDPOINTS), the node is up, ` +
      `and port ${info.endpoint.split(":").pop()} is reachable from here.`,
    "UNAVAILABLE",
  );
}

/** TLS failures get their own explanation: the raw OpenSSL text helps nobody. */
function tlsHint(detail: string, info: CallInfo): string | undefined {
  const ctx = `context "${info.ctx.name}" (${info.ctx.file})`;
  if (/ALTNAME|does not match|Hostname\/IP|not in the cert/i.test(detail)) {
    return `TLS: the certificate of endpoint ${info.endpoint} does not name that address (${detail}). ` +
      `Use an endpoint address listed in the node's certificate, or add it to machine.certSANs.`;
  }
  if (/certificate has expired|CERT_HAS_EXPIRED|certificate expired/i.test(detail)) {
    return `TLS: a certificate has expired talking to ${info.endpoint} (${detail}). If it is the client ` +
      `certificate of ${ctx}, issue a new talosconfig.`;
  }
  if (
    /self[- ]signed|unable to (get|verify)|UNABLE_TO_VERIFY|DEPTH_ZERO|certificate verify failed|unknown ca|bad certificate|certificate required|CERT_SIGNATURE|signature failure/i
      .test(detail)
  ) {
    return `TLS: endpoint ${info.endpoint} and ${ctx} do not trust each other (${detail}). The talosconfig ` +
      `is probably for another cluster or its CA was rotated; use the talosconfig generated for this cluster.`;
  }
  return undefined;
}
