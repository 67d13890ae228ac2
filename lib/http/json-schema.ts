/**
 * TypeBox schemas as plain JSON Schema draft-07, for the documents the service publishes (sites.schema.json,
 * the AsyncAPI document): draft-07 is what editors and AsyncAPI's Schema Object read.
 */

/** A deep copy with only JSON: own enumerable string keys, none of TypeBox's `~` ones. */
export function plainJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainJson);
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) if (!key.startsWith('~')) copy[key] = plainJson(member);
  return copy;
}

/** Keywords with the same meaning in draft-07 and 2020-12, which is all a draft-07 header may promise. */
const DRAFT_07_KEYWORDS = new Set([
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'anyOf',
  'allOf',
  'oneOf',
  'not',
  'title',
  'description',
  'default',
  'examples',
]);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties']);
const SCHEMA_LISTS = new Set(['anyOf', 'allOf', 'oneOf']);
const SCHEMAS = new Set(['items', 'additionalProperties', 'propertyNames', 'not']);

/** Keywords a document may add besides draft-07's: references, extensions, draft-07's own tuple and media keywords. */
export type ExtraKeyword = (keyword: string) => boolean;

/**
 * Fails when a schema has a keyword whose meaning draft-07 does not share (e.g. TypeBox's prefixItems), naming
 * where; `extra` admits the keywords a document adds on purpose.
 */
export function assertDraft07(schema: object, at: string, extra: ExtraKeyword = () => false): void {
  const isSchema = (value: unknown): value is object => typeof value === 'object' && value !== null && !Array.isArray(value);
  for (const [keyword, member] of Object.entries(schema)) {
    if (!DRAFT_07_KEYWORDS.has(keyword) && !extra(keyword)) throw new Error(`${at}: keyword ${keyword} is not draft-07`);
    if (SCHEMAS.has(keyword) && isSchema(member)) assertDraft07(member, `${at}/${keyword}`, extra);
    if ((SCHEMA_LISTS.has(keyword) || keyword === 'items') && Array.isArray(member)) {
      for (const [i, item] of (member as unknown[]).entries()) if (isSchema(item)) assertDraft07(item, `${at}/${keyword}/${i}`, extra);
    }
    if (SCHEMA_MAPS.has(keyword) && isSchema(member)) {
      for (const [name, child] of Object.entries(member)) if (isSchema(child)) assertDraft07(child, `${at}/${keyword}/${name}`, extra);
    }
  }
}
