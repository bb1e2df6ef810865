/** Conversions between JavaScript values and the column values both databases store. */

export const now = (): string => new Date().toISOString();

/** A nullable text column as a string or null. */
export const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** A JSON column's text; undefined (nothing given) stores NULL. */
export const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

/** A JSON column back to its value; NULL reads as null. */
export const parse = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : null);
