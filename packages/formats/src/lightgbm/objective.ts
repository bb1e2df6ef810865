/**
 * LightGBM's objective line, as ObjectiveFunction::ToString writes it: the name, then
 * `key:value` parameters and bare flags, space-separated (`binary sigmoid:1`,
 * `multiclass num_class:3`, `regression sqrt`, `tweedie`).
 */
export interface LgbmObjective {
  readonly name: string;
  readonly params: Readonly<Record<string, string>>;
  readonly flags: readonly string[];
  /** The line as written. */
  readonly text: string;
}

export function parseObjective(text: string): LgbmObjective {
  const [name = '', ...rest] = text.trim().split(/\s+/);
  const params: Record<string, string> = {};
  const flags: string[] = [];
  for (const part of rest) {
    const colon = part.indexOf(':');
    if (colon > 0) params[part.slice(0, colon)] = part.slice(colon + 1);
    else flags.push(part);
  }
  return { name, params, flags, text: text.trim() };
}
