import type { JsonSchema } from 'aws-cdk-lib/aws-apigateway';
import { z } from 'zod';
import { generationConfigSchema } from '../lambda/config/schema.js';

/**
 * The POST /datasets body model, generated from the zod schema the handler validates with
 * (`generationConfigSchema`), so the two cannot drift apart.
 *
 * zod emits JSON Schema draft 4 itself (`target: 'draft-4'`: boolean `exclusiveMinimum`, no
 * `const`); `io: 'input'` describes what a client may send, so keys with defaults are optional.
 * API Gateway models support draft 4 only, so every keyword is checked against the draft-4
 * keywords API Gateway validates; anything else (a `$ref`, `format`, a newer keyword a future zod
 * might emit) fails the synth instead of being silently ignored by the gateway, and so does an
 * object that would accept unknown keys.
 */
export function configJsonSchemaDraft4(): Record<string, unknown> {
  const generated = z.toJSONSchema(generationConfigSchema, { target: 'draft-4', io: 'input' }) as Record<
    string,
    unknown
  >;
  return { ...toApiGatewayDraft4(generated), title: 'GenerationConfig' };
}

/**
 * Checks a generated draft-4 schema against what API Gateway models support and returns a copy.
 * Throws on any other keyword, and when an object schema would accept unknown keys.
 */
export function toApiGatewayDraft4(schema: Record<string, unknown>): Record<string, unknown> {
  if (schema.$schema !== DRAFT4)
    throw new Error(`request model: expected a draft-4 schema, got ${String(schema.$schema)}`);
  return adapt(schema, '#') as Record<string, unknown>;
}

/** The same schema in the shape the CDK `Model` construct takes (`schema` for `$schema`). */
export function configRequestModelSchema(): JsonSchema {
  const { $schema: _draft4, ...rest } = configJsonSchemaDraft4();
  return rest; // the CDK writes $schema (draft 4) itself
}

export const DRAFT4 = 'http://json-schema.org/draft-04/schema#';

/** Draft-4 validation and annotation keywords that API Gateway's request validator honours. */
const SCALAR_KEYWORDS = new Set([
  '$schema',
  'title',
  'description',
  'default',
  'type',
  'enum',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
]);
/** Keywords whose value is a schema, or a list or a map of schemas. */
const SCHEMA_KEYWORDS = new Set(['items', 'additionalProperties', 'not']);
const SCHEMA_LIST_KEYWORDS = new Set(['anyOf', 'allOf', 'oneOf']);
const SCHEMA_MAP_KEYWORDS = new Set(['properties']);

function adapt(node: unknown, path: string): unknown {
  if (typeof node === 'boolean') {
    // `additionalProperties: false` is draft 4; a boolean schema elsewhere is draft 6+.
    if (path.endsWith('/additionalProperties')) return node;
    throw new Error(`request model: boolean schema at ${path} is not draft 4`);
  }
  if (node === null || typeof node !== 'object' || Array.isArray(node)) {
    throw new Error(`request model: expected a schema object at ${path}`);
  }
  const out: Record<string, unknown> = {};
  if ('properties' in node && (node as Record<string, unknown>).additionalProperties !== false) {
    throw new Error(`request model: the object at ${path} must refuse unknown keys (additionalProperties: false)`);
  }
  for (const [key, value] of Object.entries(node)) {
    const at = `${path}/${key}`;
    if (SCALAR_KEYWORDS.has(key)) {
      if ((key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && typeof value !== 'boolean') {
        throw new Error(`request model: ${at} must be a boolean in draft 4`);
      }
      out[key] = value;
    } else if (SCHEMA_KEYWORDS.has(key)) {
      out[key] = adapt(value, at);
    } else if (SCHEMA_LIST_KEYWORDS.has(key)) {
      out[key] = (value as unknown[]).map((v, i) => adapt(v, `${at}/${i}`));
    } else if (SCHEMA_MAP_KEYWORDS.has(key)) {
      out[key] = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, adapt(v, `${at}/${k}`)]));
    } else {
      throw new Error(
        `request model: keyword ${JSON.stringify(key)} at ${path} is not supported by API Gateway models (JSON Schema draft 4)`,
      );
    }
  }
  return out;
}
