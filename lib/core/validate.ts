import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { RequestError } from './errors.js';

/** Checks an untrusted value and returns it typed, or throws a `BAD_REQUEST` naming the bad fields. */
export type Validator<T> = (value: unknown) => T;

/**
 * Compiles `schema` once into a fast validator. Compiled (not interpreted) because it runs on every
 * message in the hot path; compiled on its first use, not at start: the service holds a validator for
 * every request of every namespace, and compiling them all was a tenth of the time before the port opens.
 */
export function compileValidator<S extends TSchema>(schema: S): Validator<Static<S>> {
  let compiled: ReturnType<typeof Compile<S>> | undefined;
  return (value) => {
    compiled ??= Compile(schema);
    if (compiled.Check(value)) return value;
    throw new RequestError('BAD_REQUEST', describeErrors(compiled.Errors(value)));
  };
}

interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly message: string;
  readonly params: unknown;
}

/** How many schema violations one error message lists. */
const MAX_REPORTED_ERRORS = 3;

function describeErrors(errors: readonly SchemaError[]): string {
  const described = errors.slice(0, MAX_REPORTED_ERRORS).map(describeError);
  return described.length > 0 ? described.join('; ') : 'payload is invalid';
}

function describeError(error: SchemaError): string {
  const missing = error.keyword === 'required' ? missingProperties(error.params) : [];
  if (missing.length > 0) {
    const names = missing.map((name) => fieldName(error.instancePath, name));
    return `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} required`;
  }
  return `${fieldName(error.instancePath)} ${error.message}`;
}

function missingProperties(params: unknown): string[] {
  if (typeof params !== 'object' || params === null || !('requiredProperties' in params)) return [];
  const props = params.requiredProperties;
  return Array.isArray(props) ? props.filter((prop): prop is string => typeof prop === 'string') : [];
}

function fieldName(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (child) parts.push(child);
  return parts.join('.') || 'payload';
}

/**
 * Accepts both payload forms of the protocol: an object, or a JSON string of it (legacy clients).
 * A string that is not JSON is a `BAD_REQUEST`.
 */
export function parseWirePayload(payload: unknown): unknown {
  if (typeof payload !== 'string') return payload;
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    throw new RequestError('BAD_REQUEST', 'payload is a string but not valid JSON');
  }
}

/**
 * For messages whose payload is a bare id (`JOIN lobbyId`, `JOIN room`) or an object `{ [key]: id }`:
 * returns the object form. A string is taken as the id itself unless it is the JSON text of an object
 * or of a string (what legacy clients produce with `JSON.stringify`).
 */
export function idOrObjectPayload(payload: unknown, key: string): unknown {
  if (typeof payload !== 'string') {
    // A number, null or array is a bad id, not a bad object: wrapping it makes the error name the field.
    return isPlainObject(payload) ? payload : { [key]: payload };
  }
  const first = payload.charCodeAt(0);
  // Only '{' and '"' can start a JSON object or string; anything else is a plain id, unparsed.
  if (first === 0x7b || first === 0x22) {
    try {
      const parsed: unknown = JSON.parse(payload);
      if (typeof parsed === 'string') return { [key]: parsed };
      if (isPlainObject(parsed)) return parsed;
    } catch {
      // Not JSON after all: a plain id that happens to start with a brace or quote.
    }
  }
  return { [key]: payload };
}

function isPlainObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
