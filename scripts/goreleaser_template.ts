/**
 * @module The small subset of GoReleaser's Go templates our .goreleaser.yaml
 * uses in names (`{{ .Field }}`, `{{ .Env.NAME }}`), rendered the same way so
 * offline checks can predict release asset names. Anything else throws, so a
 * template this cannot render is caught rather than guessed at.
 */

/** Renders `template` with `vars` (`Env` is a nested map). */
export function renderTemplate(template: string, vars: Record<string, string | Record<string, string>>): string {
  return template.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_m, expr: string) => {
    const field = /^\.([A-Za-z]+)(?:\.([A-Za-z_][A-Za-z0-9_]*))?$/.exec(expr);
    if (!field) throw new Error(`template expression {{ ${expr} }} is beyond what the offline checks render`);
    const value = vars[field[1]];
    const out = field[2] !== undefined && typeof value === "object" ? value[field[2]] : value;
    if (typeof out !== "string") throw new Error(`template field ${expr} has no value here`);
    return out;
  });
}
