/**
 * The little schema language the model config is declared in (as fastify declares its options
 * once in build/build-validation.js): each field is a rule, and one validator (validate.ts)
 * walks any document against the rules.
 */
export type Rule = IntegerRule | BooleanRule | StringRule | EnumRule | TrueRule | ListRule | MappingRule;

export interface IntegerRule {
  readonly kind: 'integer';
  readonly min: number;
  readonly max: number;
}

export interface BooleanRule {
  readonly kind: 'boolean';
}

export interface StringRule {
  readonly kind: 'string';
  readonly nonEmpty?: boolean;
}

export interface EnumRule {
  readonly kind: 'enum';
  readonly values: readonly string[];
  /** How messages name the set ("a protocol datatype"); absent: the values are listed. */
  readonly what?: string;
}

/** A flag that is only ever set to true (version_policy: {all: true}). */
export interface TrueRule {
  readonly kind: 'true';
}

export interface ListRule {
  readonly kind: 'list';
  readonly items: Rule;
  /** What messages say a value must be ("a list of integers"). */
  readonly what: string;
  readonly maxItems?: number;
  readonly nonEmpty?: boolean;
}

export interface MappingRule {
  readonly kind: 'mapping';
  /** The known fields, in the order they are checked (and listed in "unknown field" messages). */
  readonly fields: Readonly<Record<string, Field>>;
  /** Exactly one of the fields must be present (a choice, like version_policy). */
  readonly exactlyOne?: boolean;
  /** Rules across fields, each run right after the field it names has been read. */
  readonly checks?: readonly AtMostCheck[];
}

export type Field = Rule & {
  /** Checked even when absent (then as the value undefined). */
  readonly required?: boolean;
};

/**
 * Every number in the list at `list` (a path inside the mapping) is at most the number at field
 * `bound` of the same mapping: preferred batch sizes never exceed max_batch_size.
 */
export interface AtMostCheck {
  readonly after: string;
  readonly list: readonly string[];
  readonly bound: string;
}
