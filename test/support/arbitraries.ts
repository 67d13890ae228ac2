import fc from 'fast-check';

/**
 * fast-check arbitraries for what a hostile or buggy client can put in an event, and the wire's view of a
 * value for comparing what was sent with what arrived.
 */

/** Keys an object inherits or that a careless merge would follow: they must travel as plain data. */
export const PROTOTYPE_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** Object keys: mostly arbitrary strings, often a {@link PROTOTYPE_KEYS} one. */
export const keyArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 8 }), weight: 3 },
  fc.constantFrom(...PROTOTYPE_KEYS),
);

/**
 * An object whose own key is `__proto__` (or another prototype key): built from JSON text, because an
 * object literal or an assignment would set the prototype instead of a key.
 */
export const prototypeKeyObjectArb: fc.Arbitrary<unknown> = fc
  .tuple(fc.constantFrom(...PROTOTYPE_KEYS), fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 1 }))
  .map(
    ([key, value, other]) => JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)},"other":${JSON.stringify(other)}}`) as unknown,
  );

/** `depth` levels of arrays and objects inside each other, around `leaf`. */
export function nested(depth: number, leaf: unknown = 'leaf'): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { d: value };
  return value;
}

/** Deep nesting, well past what anyone sends but under what a recursive walk on a default stack survives. */
export const deepArb: fc.Arbitrary<unknown> = fc.integer({ min: 50, max: 2_000 }).map((depth) => nested(depth));

/**
 * One long string of 10k–100k UTF-16 units (ASCII, two-byte and astral characters), at most 200 KB of
 * UTF-8: a handful of them in one packet stays under the payload limit the properties configure.
 */
export const hugeStringArb: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('x', 'é', '😀', '"\\'), fc.integer({ min: 10_000, max: 100_000 }))
  .map(([unit, length]) => unit.repeat(Math.floor(length / unit.length)));

/** Binary data: a Buffer, which Socket.IO sends as an attachment. */
export const binaryArb: fc.Arbitrary<Buffer> = fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes));

/** Numbers JSON cannot carry (it writes null) and -0 (it writes 0). */
export const oddNumberArb: fc.Arbitrary<number> = fc.constantFrom(
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  Number.MAX_VALUE,
);

/** Anything a message or a stray argument may be: JSON, non-JSON values, prototype keys, depth, size, binary. */
export const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 4 },
  { arbitrary: fc.anything({ key: keyArb, maxDepth: 3, maxKeys: 4, withBoxedValues: true, withNullPrototype: true }), weight: 3 },
  { arbitrary: prototypeKeyObjectArb, weight: 2 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: oddNumberArb, weight: 1 },
  { arbitrary: binaryArb, weight: 1 },
  { arbitrary: fc.record({ bin: binaryArb, list: fc.array(binaryArb, { maxLength: 3 }) }), weight: 1 },
  { arbitrary: deepArb, weight: 1 },
  { arbitrary: hugeStringArb, weight: 1 },
);

/** A JSON string cut short: what a client that builds its own JSON sends when it gets it wrong. */
export function brokenJsonArb(value: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc
    .tuple(value, fc.nat())
    .map(([v, cut]) => {
      const text = JSON.stringify(v) ?? 'null';
      return text.slice(0, 1 + (cut % Math.max(1, text.length - 1)));
    })
    .filter((text) => !isJson(text));
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A value as the JSON text of a Socket.IO packet would carry it, and any binary in it as `{ $binary: hex }`. */
export function wireForm(value: unknown): unknown {
  const text = JSON.stringify([value], function replacer(this: unknown, key: string, current: unknown) {
    // The holder's own value: JSON.stringify has already turned a Buffer into its toJSON() form here.
    const original = (this as Record<string, unknown>)[key];
    if (original instanceof ArrayBuffer) return { $binary: Buffer.from(original).toString('hex') };
    if (ArrayBuffer.isView(original))
      return { $binary: Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('hex') };
    return current;
  });
  return (JSON.parse(text) as unknown[])[0];
}

function isBinary(value: unknown): boolean {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/** How many binary values (attachments, once sent) `value` holds. */
export function binaryCount(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (isBinary(value)) return 1;
  return (Array.isArray(value) ? value : Object.values(value)).reduce((sum: number, item: unknown) => sum + binaryCount(item), 0);
}

function containsBinary(value: unknown): boolean {
  return binaryCount(value) > 0;
}

/**
 * Arguments as socket.io's encoder (client's and server's alike) puts them on the wire. A packet with
 * binary in it is rebuilt, object by object, by assigning each own key to a fresh `{}`: an own
 * `__proto__` key is lost on the way (the assignment sets the prototype), and a boxed primitive becomes
 * the object of its indexed characters or `{}`. A packet without binary is JSON text, which keeps both.
 */
export function asEncoded(args: readonly unknown[]): unknown[] {
  if (!containsBinary(args)) return [...args];
  const rebuild = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null || isBinary(value)) return value;
    if (Array.isArray(value)) return value.map(rebuild);
    if (value instanceof Date) return value;
    const copy: Record<string, unknown> = {};
    for (const key in value) {
      // A plain assignment on purpose: it is what the encoder does.
      if (Object.prototype.hasOwnProperty.call(value, key)) copy[key] = rebuild((value as Record<string, unknown>)[key]);
    }
    return copy;
  };
  return args.map(rebuild);
}
