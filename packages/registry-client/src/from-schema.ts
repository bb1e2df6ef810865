/**
 * The TypeScript type of a value a JSON schema accepts, for the subset the body schemas use
 * (object with properties/required/additionalProperties, array, string, integer, number, boolean,
 * enum). The schemas are declared once, `as const`, and the request-body types are derived from
 * them, so the client's bodies cannot drift from what the server validates (the idea of
 * json-schema-to-ts's FromSchema, without the dependency).
 */
export type FromSchema<S> = S extends { readonly enum: readonly (infer E)[] }
  ? E
  : S extends { readonly type: 'string' }
    ? string
    : S extends { readonly type: 'integer' | 'number' }
      ? number
      : S extends { readonly type: 'boolean' }
        ? boolean
        : S extends { readonly type: 'array'; readonly items: infer I }
          ? readonly FromSchema<I>[]
          : S extends { readonly type: 'object'; readonly properties: infer P }
            ? ObjectOf<P, S extends { readonly required: readonly (infer R)[] } ? R : never>
            : S extends { readonly type: 'object'; readonly additionalProperties: infer A }
              ? Record<string, FromSchema<A>>
              : unknown;

type ObjectOf<P, R> = Flatten<
  { -readonly [K in keyof P as K extends R ? K : never]: FromSchema<P[K]> } & {
    -readonly [K in keyof P as K extends R ? never : K]?: FromSchema<P[K]>;
  }
>;

type Flatten<T> = { [K in keyof T]: T[K] };
