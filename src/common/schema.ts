/**
 * A small schema language for messages that cross a trust boundary: each message is written once
 * as a schema, its TypeScript type is derived from it (`Infer`), and so is its validator (`parse`),
 * so the two cannot drift. `parse` returns a fresh value with only the declared fields, or
 * undefined.
 */

export interface Schema<T> {
  parse(v: unknown): T | undefined;
  /** For tests and error messages: what the schema accepts. */
  readonly kind: string;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

const schema = <T>(kind: string, parse: (v: unknown) => T | undefined): Schema<T> => ({ kind, parse });

/** An integer in [min, max]. */
export const int = (min: number, max: number): Schema<number> =>
  schema(`int ${min}..${max}`, (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined,
  );

/** One exact value. */
export const literal = <const T extends string | number | boolean>(value: T): Schema<T> =>
  schema(`literal ${JSON.stringify(value)}`, (v) => (v === value ? value : undefined));

/** A string of at most `maxLength` characters that `pattern` matches. */
export const text = (maxLength: number, pattern?: RegExp): Schema<string> =>
  schema(`text ≤ ${maxLength}${pattern ? ` ${pattern}` : ''}`, (v) =>
    typeof v === 'string' && v.length <= maxLength && (!pattern || pattern.test(v)) ? v : undefined,
  );

/** The first of `options` that accepts the value. */
export function oneOf<S extends Schema<unknown>[]>(...options: S): Schema<Infer<S[number]>> {
  return schema(options.map((o) => o.kind).join(' | '), (v) => {
    for (const o of options) {
      const out = o.parse(v);
      if (out !== undefined) return out as Infer<S[number]>;
    }
    return undefined;
  });
}

export type Fields = Record<string, Schema<unknown>>;
export type ObjectOf<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

export interface ObjectSchema<F extends Fields> extends Schema<ObjectOf<F>> {
  readonly fields: F;
}

/** A plain object with exactly these fields (all required); any other field is dropped. */
export function object<F extends Fields>(fields: F): ObjectSchema<F> {
  const parse = (v: unknown): ObjectOf<F> | undefined => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(fields)) {
      if (!Object.prototype.hasOwnProperty.call(src, key)) return undefined;
      const value = fields[key].parse(src[key]);
      if (value === undefined) return undefined;
      out[key] = value;
    }
    return out as ObjectOf<F>;
  };
  return { kind: `{ ${Object.keys(fields).join(', ')} }`, parse, fields };
}

/**
 * Messages told apart by `type`: a map from each type to the schema of its other fields. The
 * message type is the union of `{ type: K } & fields`; the parser dispatches on `type`.
 */
export type MessageMap = Record<string, ObjectSchema<Fields>>;
export type MessageOf<M extends MessageMap> = { [K in keyof M & string]: { type: K } & Infer<M[K]> }[keyof M & string];

export function messages<M extends MessageMap>(map: M): Schema<MessageOf<M>> {
  return schema(Object.keys(map).join(' | '), (v) => {
    if (typeof v !== 'object' || v === null) return undefined;
    const type = (v as { type?: unknown }).type;
    if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(map, type)) return undefined;
    const body = map[type].parse(v);
    return body === undefined ? undefined : ({ type, ...body } as MessageOf<M>);
  });
}

/**
 * Requests in the envelope of src/rpc.ts, `{ type: 'request', id, method, params }`: a map from
 * each method to the schema of its params.
 */
export type RequestOf<P extends Record<string, Schema<unknown>>> = {
  [K in keyof P & string]: { type: 'request'; id: number; method: K; params: Infer<P[K]> };
}[keyof P & string];

export function requests<P extends Record<string, Schema<unknown>>>(
  params: P,
  id: Schema<number>,
): Schema<RequestOf<P>> {
  return schema<RequestOf<P>>(`request ${Object.keys(params).join(' | ')}`, (v) => {
    if (typeof v !== 'object' || v === null) return undefined;
    const m = v as Record<string, unknown>;
    const known = typeof m.method === 'string' && Object.prototype.hasOwnProperty.call(params, m.method);
    if (m.type !== 'request' || !known) return undefined;
    const parsedId = id.parse(m.id);
    const parsed = params[m.method as string].parse(m.params);
    if (parsedId === undefined || parsed === undefined) return undefined;
    return { type: 'request', id: parsedId, method: m.method as string, params: parsed } as RequestOf<P>;
  });
}
