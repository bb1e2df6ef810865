/**
 * The one error machinery of every ferry package (the fastify lib/errors.js pattern): a package's
 * errors.ts is only its code table, and `defineErrors(prefix, table, options)` gives it an error
 * class, a factory and a type guard, all over the one `FerryError` base. So `isFerryError(e)`
 * holds for any package's error (the CLI prints it as one line, writeFileAtomic passes it
 * through), and each package's own guard holds only for its own table.
 *
 * A code names the rule that was broken; the template names the file, field or offset.
 * `permanent` errors are bad input (retrying changes nothing); transient ones are I/O or load.
 * `http` is the status the error maps to where it crosses HTTP.
 * Every code is documented in docs/errors.md under its package (packages/cli/test/error-codes.test.ts
 * checks both directions).
 */
export interface ErrorSpec {
  /** Template; `{name}` is replaced by the parameter of that name. */
  readonly message: string;
  readonly http: number;
  readonly permanent: boolean;
}

export type ErrorParams = Record<string, string | number | bigint>;

export interface FerryErrorInit {
  readonly code: string;
  /** The finished message (a table's template already filled). */
  readonly message: string;
  readonly http: number;
  readonly permanent: boolean;
  readonly params?: ErrorParams;
  readonly cause?: unknown;
}

/** The base of every error a ferry package raises: a FERRY_* code, a one-line message, a status. */
export class FerryError extends Error {
  readonly code: string;
  readonly params: ErrorParams;
  readonly http: number;
  readonly permanent: boolean;

  constructor(init: FerryErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'FerryError';
    this.code = init.code;
    this.params = init.params ?? {};
    this.http = init.http;
    this.permanent = init.permanent;
  }
}

/** True for an error of any ferry package (any table, or a registry error rebuilt from the wire). */
export function isFerryError(value: unknown): value is FerryError {
  return value instanceof FerryError;
}

/**
 * Fills `{name}` placeholders from `params` (unknown names stay as written): every ferry package's
 * error table uses this one template form.
 */
export function formatErrorMessage(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in params ? String(params[key]) : whole,
  );
}

export interface DefineErrorsOptions {
  /** `error.name` of the package's class (ServeError, BundleError, ...). */
  readonly name: string;
  /** Keep only the first line of each parameter (libtorch's messages run over many lines). */
  readonly oneLineParams?: boolean;
  /** Add `statusCode` (= http), which fastify's default error handler answers with. */
  readonly statusCode?: boolean;
}

/** An error of one table: its code is one of the table's. */
export type DefinedError<
  C extends string,
  O extends DefineErrorsOptions = DefineErrorsOptions,
> = FerryError & {
  readonly code: C;
} & (O extends { readonly statusCode: true } ? { readonly statusCode: number } : unknown);

export type DefinedErrorClass<C extends string, O extends DefineErrorsOptions = DefineErrorsOptions> = new (
  code: C,
  params?: ErrorParams,
  options?: { cause?: unknown },
) => DefinedError<C, O>;

export interface DefinedErrors<C extends string, O extends DefineErrorsOptions> {
  readonly ErrorClass: DefinedErrorClass<C, O>;
  /** The factory: `create(code, params, cause)`. */
  readonly create: (code: C, params?: ErrorParams, cause?: unknown) => DefinedError<C, O>;
  /** The package's own guard (a subclass, like bundle's BundleManifestError, counts). */
  readonly is: (value: unknown) => value is DefinedError<C, O>;
}

/** True when `code` starts with the prefix (or one of the prefixes) of its table. */
export function codeHasPrefix(code: string, prefix: string | readonly string[]): boolean {
  return (typeof prefix === 'string' ? [prefix] : prefix).some((p) => code.startsWith(p));
}

/**
 * One package's error class, factory and guard from its table. `prefix` is the namespace the
 * table's codes live in (a list where a package's codes kept the names they had before it was
 * split out); a code outside it is a programming error, caught when the module loads.
 */
export function defineErrors<const T extends Record<string, ErrorSpec>, const O extends DefineErrorsOptions>(
  prefix: string | readonly string[],
  table: T,
  options: O,
): DefinedErrors<keyof T & string, O> {
  for (const code of Object.keys(table)) {
    if (!/^FERRY_[A-Z0-9_]+$/.test(code) || !codeHasPrefix(code, prefix))
      throw new Error(`${options.name}: code ${code} is outside the table's prefix ${String(prefix)}`);
  }
  const shown = (params: ErrorParams): ErrorParams =>
    options.oneLineParams
      ? Object.fromEntries(Object.entries(params).map(([key, value]) => [key, String(value).split('\n')[0]!]))
      : params;

  class Defined extends FerryError {
    constructor(code: keyof T & string, params: ErrorParams = {}, init?: { cause?: unknown }) {
      const spec = table[code]!;
      super({
        code,
        message: formatErrorMessage(spec.message, shown(params)),
        http: spec.http,
        permanent: spec.permanent,
        params,
        cause: init?.cause,
      });
      this.name = options.name;
    }
  }
  if (options.statusCode)
    Object.defineProperty(Defined.prototype, 'statusCode', {
      get(this: FerryError) {
        return this.http;
      },
    });
  const ErrorClass = Defined as unknown as DefinedErrorClass<keyof T & string, O>;
  return {
    ErrorClass,
    create: (code, params = {}, cause) =>
      new ErrorClass(code, params, cause === undefined ? undefined : { cause }),
    is: (value): value is DefinedError<keyof T & string, O> => value instanceof Defined,
  };
}
