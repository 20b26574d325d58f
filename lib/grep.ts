/**
 * @module User-supplied line filters (the `grep` of talos_logs and talos_dmesg), compiled with RE2JS.
 *
 * A pattern comes from an agent and runs over logs of hundreds of MiB. The
 * runtime's own RegExp backtracks: `(a|aa)+$` on one long line blocks the event
 * loop for minutes and nothing (deadline, cancellation) can interrupt it. RE2
 * matches in time linear in the input, whatever the pattern; the price is that
 * backreferences and lookaround do not exist there, which we say up front.
 */
import { RE2JS, RE2JSException } from "re2js";

/** What tailLines needs of a filter: one line in, keep or not. */
export interface LineFilter {
  test(line: string): boolean;
}

/** Syntax of other regex dialects that RE2 refuses, and what to tell the agent instead. */
const UNSUPPORTED: Array<[RegExp, string]> = [
  [/\\[1-9]|\\k</, "backreferences (\\1, \\k<name>)"],
  [/\(\?<?[=!]/, "lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…))"],
  [/\(\?>/, "atomic groups ((?>…))"],
  [/[+*?}][+]/, "possessive quantifiers (a++, a*+)"],
  [/\\u[0-9A-Fa-f{]/, "\\u escapes (write \\x{263A} instead)"],
  [/\\[cZG]/, "the escapes \\c, \\Z and \\G"],
];

/**
 * A case-insensitive RE2 filter for `pattern`. Throws an Error whose message
 * names what is wrong, and for syntax RE2 lacks, which construct that is.
 */
export function compileGrep(pattern: string): LineFilter {
  try {
    return RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
  } catch (err) {
    if (!(err instanceof RE2JSException)) throw err;
    const lacking = UNSUPPORTED.find(([re]) => re.test(pattern));
    // RE2JS applies the flag as a `(?i)` prefix, which then shows in its message: quote what was sent.
    const detail = err.message.replace(/^error parsing regexp: /, "").replace("`(?i)", "`");
    throw new Error(
      lacking
        ? `grep uses ${lacking[1]}, which RE2 (the linear-time regex engine used for grep) does not support; ` +
          `rewrite the pattern without it (${detail})`
        : `grep is not a valid RE2 regular expression: ${detail}`,
    );
  }
}

/** For schema checks: the reason `pattern` cannot be used, or undefined when it compiles. */
export function grepProblem(pattern: string): string | undefined {
  try {
    compileGrep(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
