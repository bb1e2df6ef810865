import { UsageError } from './usage-error.js';

/**
 * Typed parsers for option values, one place for the rules: each reads `values[flag]` (what
 * node:util parseArgs gave the command), returns the typed value or `undefined` when the flag is
 * absent (the caller supplies the default with `??`), and refuses anything else with one line that
 * names the flag, the rule and the value given (a UsageError: exit 2). `Number('')` is 0 and
 * `Number('1e3')` is 1000, so every number is matched by a pattern before it is converted.
 */

/** A command's parsed option values (ParsedArgs['values'], or a narrowed copy of it). */
export type OptionValues = Readonly<Record<string, unknown>>;

/** The value as the user typed it; quoted when empty or holding spaces so the line stays readable. */
function shown(text: string): string {
  return /^[\x21-\x7e]+$/.test(text) ? text : JSON.stringify(text);
}

function refuse(flag: string, rule: string, given: string): UsageError {
  return new UsageError(`--${flag} must be ${rule} (got ${shown(given)})`);
}

/** The text given for a one-value flag; another shape means the option's spec says otherwise. */
function text(values: OptionValues, flag: string): string | undefined {
  const value = values[flag];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError(`--${flag} takes one value`);
  return value;
}

/** A string flag's value, as given. */
export function stringOption(values: OptionValues, flag: string): string | undefined {
  return text(values, flag);
}

/** A file or folder path: not empty, no NUL byte (which no file system accepts). */
export function pathOption(values: OptionValues, flag: string): string | undefined {
  const given = text(values, flag);
  if (given !== undefined && (given === '' || given.includes('\0'))) throw refuse(flag, 'a path', given);
  return given;
}

/**
 * A list: a repeatable flag's values (`multiple: true`) or one value, each split at `split` when
 * given (`--ops MatMul,Gemm`), trimmed, empty items dropped. Absent: undefined.
 */
export function stringList(
  values: OptionValues,
  flag: string,
  options: { readonly split?: string } = {},
): string[] | undefined {
  const value = values[flag];
  if (value === undefined) return undefined;
  const items = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string'))
    throw new UsageError(`--${flag} takes text values`);
  if (options.split === undefined) return [...items];
  return items.flatMap((item) =>
    item
      .split(options.split!)
      .map((part) => part.trim())
      .filter((part) => part !== ''),
  );
}

/** One of a fixed set of words. */
export function enumOption<const T extends string>(
  values: OptionValues,
  flag: string,
  allowed: readonly T[],
): T | undefined {
  const given = text(values, flag);
  if (given === undefined) return undefined;
  if ((allowed as readonly string[]).includes(given)) return given as T;
  const rule = allowed.length === 2 ? `${allowed[0]} or ${allowed[1]}` : `one of ${allowed.join(', ')}`;
  throw refuse(flag, rule, given);
}

/**
 * An absolute URL with one of `protocols` (e.g. `['http:', 'https:']`), returned as given: the
 * consumer (fetch, pg) parses it again, and a trailing slash or case is theirs to interpret.
 */
export function urlOption(
  values: OptionValues,
  flag: string,
  protocols: readonly string[],
): string | undefined {
  const given = text(values, flag);
  if (given === undefined) return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(given).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol === undefined || !protocols.includes(protocol))
    throw refuse(flag, `a ${protocols.map((p) => `${p}//`).join(' or ')} URL`, given);
  return given;
}

/** The schemes node-postgres takes for a connection string (`--db`). */
export const POSTGRES_PROTOCOLS: readonly string[] = ['postgres:', 'postgresql:'];

/** The schemes ferry's registry API is reached over (`--registry`). */
export const HTTP_PROTOCOLS: readonly string[] = ['http:', 'https:'];

/**
 * A TCP port, 0-65535 (0: any free port, the OS picks). `names` are one flag's names (the first
 * is the documented one, e.g. `['serve-port', 'http-port']`); two names with different values are
 * refused rather than one silently winning.
 */
export function portOption(values: OptionValues, names: string | readonly string[]): number | undefined {
  const all = typeof names === 'string' ? [names] : names;
  const given = all.filter((n) => values[n] !== undefined);
  if (given.length === 0) return undefined;
  const flag = given[0]!;
  const first = values[flag];
  for (const other of given.slice(1))
    if (values[other] !== first)
      throw new UsageError(`--${flag} and --${other} name the same port: give one of them`);
  const port = text(values, flag)!;
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw refuse(flag, 'a port number 0-65535', port);
  return Number(port);
}

/** A whole number from `min` to `max` (no sign, exponent, fraction or spaces). */
export function integerOption(
  values: OptionValues,
  flag: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const given = text(values, flag);
  if (given === undefined) return undefined;
  const n = /^\d{1,16}$/.test(given) ? Number(given) : Number.NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max))
    throw refuse(
      flag,
      max === Number.MAX_SAFE_INTEGER ? `an integer ${min} or more` : `an integer ${min}-${max}`,
      given,
    );
  return n;
}

/** A whole number 0 or more (at most `max`). */
export function nonNegativeInteger(values: OptionValues, flag: string, max?: number): number | undefined {
  return integerOption(values, flag, 0, max);
}

/** A whole number 1 or more (at most `max`). */
export function positiveInteger(values: OptionValues, flag: string, max?: number): number | undefined {
  return integerOption(values, flag, 1, max);
}

/** Decimal notation, with an exponent for small tolerances (`1e-6`); no sign, hex or spaces. */
const DECIMAL = /^(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?$/;

/** Bounds of a number flag: `above` excludes its value, `atLeast` and `atMost` include theirs. */
export interface NumberRange {
  readonly above?: number;
  readonly atLeast?: number;
  readonly atMost?: number;
}

/** A finite decimal number within `range`. */
export function numberOption(values: OptionValues, flag: string, range: NumberRange): number | undefined {
  const given = text(values, flag);
  if (given === undefined) return undefined;
  const n = DECIMAL.test(given) ? Number(given) : Number.NaN;
  const { above, atLeast, atMost } = range;
  const ok =
    Number.isFinite(n) &&
    (above === undefined || n > above) &&
    (atLeast === undefined || n >= atLeast) &&
    (atMost === undefined || n <= atMost);
  if (ok) return n;
  throw refuse(flag, numberRule(range), given);
}

function numberRule({ above, atLeast, atMost }: NumberRange): string {
  if (atMost === undefined && above === 0 && atLeast === undefined) return 'a positive number';
  if (atMost === undefined && atLeast === 0 && above === undefined) return 'a non-negative number';
  const bounds = [
    above !== undefined && `above ${above}`,
    atLeast !== undefined && `at least ${atLeast}`,
    atMost !== undefined && `at most ${atMost}`,
  ].filter((b) => b !== false);
  return `a number ${bounds.join(' and ')}`;
}

/** A number above 0 (at most `atMost`). */
export function positiveNumber(values: OptionValues, flag: string, atMost?: number): number | undefined {
  return numberOption(values, flag, { above: 0, ...(atMost !== undefined && { atMost }) });
}

/** A number 0 or more (at most `atMost`). */
export function nonNegativeNumber(values: OptionValues, flag: string, atMost?: number): number | undefined {
  return numberOption(values, flag, { atLeast: 0, ...(atMost !== undefined && { atMost }) });
}

/** The longest duration a flag takes by default: a day. Node's timers overflow past 2^31-1 ms. */
export const MAX_DURATION_SECONDS = 86_400;

/**
 * A duration given in seconds (`2.5`), returned in MILLISECONDS (what timers take), at least 1 ms
 * so a tiny value never becomes a zero-delay busy loop.
 */
export function seconds(
  values: OptionValues,
  flag: string,
  atMost: number = MAX_DURATION_SECONDS,
): number | undefined {
  const given = text(values, flag);
  if (given === undefined) return undefined;
  const n = /^\d{1,9}(\.\d{1,9})?$/.test(given) ? Number(given) : Number.NaN;
  if (!(n > 0) || n > atMost) throw refuse(flag, `a number of seconds, > 0 and at most ${atMost}`, given);
  return Math.max(1, Math.round(n * 1000));
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 };

/** A byte count, plain or with a binary unit: `536870912`, `512MiB`, `2GiB`; at least 1. */
export function byteSize(values: OptionValues, flag: string): number | undefined {
  const given = text(values, flag);
  if (given === undefined) return undefined;
  const m = /^(\d{1,15})(KiB|MiB|GiB)?$/.exec(given);
  const n = m ? Number(m[1]) * BYTE_UNITS[m[2] ?? '']! : Number.NaN;
  if (!(n >= 1 && Number.isSafeInteger(n)))
    throw refuse(flag, 'a byte count like 536870912 or 512MiB', given);
  return n;
}
