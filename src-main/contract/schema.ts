/**
 * A small request-schema language for the contract: each schema parses an unknown JSON value into a
 * typed one or throws RequestError naming the field ("hyperparameters.batchSize must be an integer,
 * got \"abc\""). Request types are inferred from the schemas (`Infer<typeof schema>`), so a request's
 * shape is written once. Pure: the renderer imports it too.
 *
 * Objects refuse keys they do not declare (own keys only: `constructor`/`toString` are unknown
 * fields like any other), and accept only plain objects, so `{"id":[1]}` or `{"id":true}` never
 * reach a handler.
 */

export class RequestError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

export interface Schema<T> {
  /** What the value must be, in words ("an integer from 1 to 64"). */
  readonly expected: string;
  parse(value: unknown, path: string): T;
}

/** A key of an object schema that may be missing (`undefined` counts as missing). */
export interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true;
  readonly inner: Schema<T>;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type InferObject<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> }
>;

/** The value as a message shows it: JSON, shortened. */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

const fail = (path: string, expected: string, value: unknown): never => {
  throw new RequestError(path, `${path || 'the request'} must be ${expected}, got ${shown(value)}`);
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

const join = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

function range(min?: number, max?: number, minExclusive = false): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return minExclusive ? ` greater than ${min}` : ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

export interface NumberOptions {
  min?: number;
  max?: number;
  /** min itself is not allowed (a learning rate > 0). */
  minExclusive?: boolean;
}

export function number(o: NumberOptions = {}): Schema<number> {
  const expected = o.min === 0 && o.minExclusive && o.max === undefined ? 'a positive number' : `a number${range(o.min, o.max, o.minExclusive)}`;
  return {
    expected,
    parse(v, path) {
      if (typeof v !== 'number' || !Number.isFinite(v)) return fail(path, expected, v);
      if (o.min !== undefined && (o.minExclusive ? v <= o.min : v < o.min)) return fail(path, expected, v);
      if (o.max !== undefined && v > o.max) return fail(path, expected, v);
      return v;
    },
  };
}

export function integer(o: { min?: number; max?: number } = {}): Schema<number> {
  const expected = o.min === 1 && o.max === undefined ? 'a positive integer' : `an integer${range(o.min, o.max)}`;
  return {
    expected,
    parse(v, path) {
      if (typeof v !== 'number' || !Number.isInteger(v)) return fail(path, expected, v);
      if ((o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max)) return fail(path, expected, v);
      return v;
    },
  };
}

/** A database id: a positive integer. */
export const id = (): Schema<number> => integer({ min: 1, max: Number.MAX_SAFE_INTEGER });

export function string(o: { minLength?: number; maxLength?: number } = {}): Schema<string> {
  const min = o.minLength ?? 0;
  const expected = min > 0 ? `a non-empty string${o.maxLength ? ` of at most ${o.maxLength} characters` : ''}` : `a string${o.maxLength ? ` of at most ${o.maxLength} characters` : ''}`;
  return {
    expected,
    parse(v, path) {
      if (typeof v !== 'string' || v.length < min || (o.maxLength !== undefined && v.length > o.maxLength)) return fail(path, expected, v);
      return v;
    },
  };
}

export function boolean(): Schema<boolean> {
  return {
    expected: 'true or false',
    parse(v, path) {
      if (typeof v !== 'boolean') return fail(path, 'true or false', v);
      return v;
    },
  };
}

export function oneOf<const T extends readonly (string | number)[]>(values: T): Schema<T[number]> {
  const expected = `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  return {
    expected,
    parse(v, path) {
      if (!values.includes(v as T[number])) return fail(path, expected, v);
      return v as T[number];
    },
  };
}

export function array<T>(item: Schema<T>, o: { minItems?: number; maxItems?: number } = {}): Schema<T[]> {
  const expected = `an array${o.minItems ? ` of at least ${o.minItems}` : ''}${o.maxItems !== undefined ? `${o.minItems ? ' and' : ' of'} at most ${o.maxItems}` : ''} items (${item.expected})`;
  return {
    expected,
    parse(v, path) {
      if (!Array.isArray(v)) return fail(path, expected, v);
      if ((o.minItems !== undefined && v.length < o.minItems) || (o.maxItems !== undefined && v.length > o.maxItems)) {
        throw new RequestError(path, `${path} must have ${o.minItems ?? 0} to ${o.maxItems ?? '∞'} items, got ${v.length}`);
      }
      return v.map((x, i) => item.parse(x, join(path, i)));
    },
  };
}

export function tuple<const S extends readonly Schema<unknown>[]>(items: S): Schema<{ -readonly [K in keyof S]: Infer<S[K]> }> {
  const expected = `[${items.map((i) => i.expected).join(', ')}]`;
  return {
    expected,
    parse(v, path) {
      if (!Array.isArray(v) || v.length !== items.length) return fail(path, expected, v);
      return items.map((s, i) => s.parse(v[i], join(path, i))) as { -readonly [K in keyof S]: Infer<S[K]> };
    },
  };
}

export function optional<T>(inner: Schema<T>): OptionalSchema<T> {
  return {
    optional: true,
    inner,
    expected: inner.expected,
    parse: (v, path) => (v === undefined ? undefined : inner.parse(v, path)),
  };
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return {
    expected: `${inner.expected}, or null`,
    parse: (v, path) => (v === null ? null : inner.parse(v, path)),
  };
}

export interface ObjectSchema<S extends Shape> extends Schema<InferObject<S>> {
  readonly shape: S;
}

export function object<S extends Shape>(shape: S): ObjectSchema<S> {
  const keys = Object.keys(shape);
  return {
    shape,
    expected: 'an object',
    parse(v, path) {
      if (!isPlainObject(v)) return fail(path, 'an object', v);
      for (const key of Object.keys(v)) {
        if (!Object.hasOwn(shape, key)) {
          throw new RequestError(join(path, key), `unknown field ${JSON.stringify(join(path, key))}${keys.length ? ` (expected ${keys.join(', ')})` : ''}`);
        }
      }
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const schema = shape[key]!;
        const value = v[key];
        if (value === undefined && !('optional' in schema)) throw new RequestError(join(path, key), `${join(path, key)} is required`);
        const parsed = schema.parse(value, join(path, key));
        if (parsed !== undefined) out[key] = parsed;
      }
      return out as InferObject<S>;
    },
  };
}

/** Objects told apart by their `type` field, each with its own schema. */
export function variants<const V extends Record<string, ObjectSchema<Shape>>>(byType: V): Schema<{ [K in keyof V]: Infer<V[K]> }[keyof V]> {
  const types = Object.keys(byType);
  return {
    expected: `an object whose type is one of ${types.map((t) => JSON.stringify(t)).join(', ')}`,
    parse(v, path) {
      if (!isPlainObject(v)) return fail(path, 'an object', v);
      const type = v.type;
      if (typeof type !== 'string' || !Object.hasOwn(byType, type)) return fail(join(path, 'type'), `one of ${types.map((t) => JSON.stringify(t)).join(', ')}`, type);
      return byType[type]!.parse(v, path) as { [K in keyof V]: Infer<V[K]> }[keyof V];
    },
  };
}

/**
 * A value whose full check lives elsewhere (a ModelSpec is checked by the engine's inferShapes,
 * which names the layer): here only its outline, so nothing but JSON of that outline gets through.
 */
export function custom<T>(expected: string, check: (value: unknown) => boolean): Schema<T> {
  return {
    expected,
    parse(v, path) {
      if (!check(v)) return fail(path, expected, v);
      return v as T;
    },
  };
}

/** An empty request: nothing, null or {} (commands that take no arguments). */
export function none(): Schema<Record<string, never>> {
  return {
    expected: 'an empty object',
    parse(v, path) {
      if (v === undefined || v === null) return {};
      if (!isPlainObject(v)) return fail(path, 'an empty object', v);
      const extra = Object.keys(v);
      if (extra.length) throw new RequestError(extra[0]!, `unknown field ${JSON.stringify(extra[0])} (this command takes no arguments)`);
      return {};
    },
  };
}

/** A request object, where a missing body (undefined/null) counts as {} so all-optional requests may be omitted. */
export function request<S extends Shape>(shape: S): ObjectSchema<S> {
  const o = object(shape);
  return { ...o, parse: (v, path) => o.parse(v === undefined || v === null ? {} : v, path) };
}
