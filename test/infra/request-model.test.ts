import { readFileSync } from 'node:fs';
import ajvDraft04 from 'ajv-draft-04';
import { describe, expect, it } from 'vitest';
import { configJsonSchemaDraft4, configRequestModelSchema, toApiGatewayDraft4 } from '../../infra/request-model.js';
import { generationConfigSchema } from '../../lambda/config/schema.js';

const readEvent = (name: string): any =>
  JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'));

// A JSON Schema draft-4 validator (API Gateway models are draft 4); strict: unknown keywords fail.
// (A CommonJS module: its class is `.default` when imported from ESM.)
const Ajv04 = ajvDraft04.default;
const ajv = new Ajv04({ strict: true, allErrors: true });
const validate = ajv.compile(configJsonSchemaDraft4());
const accepts = (body: unknown): boolean => validate(body);

describe('POST /datasets request model', () => {
  it('is a draft-4 schema generated from generationConfigSchema, listing every config key', () => {
    const schema = configJsonSchemaDraft4();
    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(Object.keys(schema.properties as object).sort()).toEqual(Object.keys(generationConfigSchema.shape).sort());
    expect(schema.required).toBeUndefined(); // every key has a default: {} is a valid body
    // The CDK form is the same schema with `schema` for `$schema` (the CDK maps it back).
    const { $schema, ...rest } = schema;
    expect(configRequestModelSchema()).toEqual(rest);
    expect($schema).toBeDefined();
  });

  it('accepts the sample bodies and configs', () => {
    const post = readEvent('api-post-default.json');
    for (const body of [
      {},
      JSON.parse(post.body),
      readEvent('config-notebook.json'),
      readEvent('config-custom.json'),
      readEvent('background-job.json').config, // every key given
      { cohortSizes: null },
      { cohortSizes: [20, 20, 20, 20, 20] },
      { upgradeSpike: { maxUploads: 1 } },
      { freeUploadsPerDay: { mean: 0.5 } },
      { formats: ['parquet'] },
      { formats: ['parquet', 'csv'] },
    ]) {
      expect(accepts(body), `${JSON.stringify(body)}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  });

  it('refuses unknown keys at every level', () => {
    for (const body of [
      { user: 100 },
      { seed: 7, extra: true },
      { upgradeSpike: { probabilty: 0.5 } },
      { freeUploadsPerDay: { mean: 1, sd: 1 } },
      { premiumUploadsPerDay: { mean: 1, std: 1, median: 1 } },
    ]) {
      expect(accepts(body), JSON.stringify(body)).toBe(false);
      expect(validate.errors?.some((e: { keyword: string }) => e.keyword === 'additionalProperties')).toBe(true);
    }
  });

  it('refuses what the schema refuses: types, ranges, enums, timestamp shapes, array lengths', () => {
    for (const body of [
      [],
      'seed=7',
      { seed: -1 },
      { seed: 1.5 },
      { seed: '7' },
      { seed: 4294967296 },
      { users: 0 },
      { users: 10_000_001 },
      { engine: 'fast' },
      { start: '2025-03-01' },
      { end: '2025-03-11 00:00:00' },
      { minTierGapHours: -1 },
      { premiumLargeShare: 1.5 },
      { freeUploadsPerDay: { mean: 0 } }, // exclusive minimum, draft-4 style
      { upgradeSpike: { maxUploads: 3 } },
      { cohortSizes: [25, 25, 25, 25] },
      { cohortSizes: [20, 20, 20, 20, -1] },
      // Duplicates pass the model (draft 4 has no rule zod's refinement maps to) and get the function's 400.
      { formats: [] },
      { formats: 'parquet' },
      { formats: ['orc'] },
    ]) {
      expect(accepts(body), JSON.stringify(body)).toBe(false);
    }
  });

  it('agrees with the zod schema the handler validates with, case by case', () => {
    const cases: unknown[] = [
      {},
      { seed: 0 },
      { seed: 4294967295 },
      { seed: -1 },
      { users: 1 },
      { users: 0 },
      { user: 1 },
      { start: '2025-03-01T00:00:00Z' },
      { start: '2025-3-1T00:00:00Z' },
      { minTierGapHours: 0 },
      { freeUploadsPerDay: {} },
      { freeUploadsPerDay: { mean: 0 } },
      { freeUploadsPerDay: { mean: 1e-9 } },
      { freeUploadsPerDay: { std: 0 } },
      { freeUploadsPerDay: { std: 1_000_001 } },
      { upgradeSpike: {} },
      { upgradeSpike: { maxUploads: 2 } },
      { upgradeSpike: { maxUploads: 1.5 } },
      { cohortSizes: null },
      { cohortSizes: [0, 0, 0, 0, 100] },
      { cohortSizes: [1, 2, 3] },
      { premiumLargeShare: 0 },
      { engine: 'reference' },
    ];
    for (const body of cases) {
      expect(accepts(body), JSON.stringify(body)).toBe(generationConfigSchema.safeParse(body).success);
    }
  });

  it('fails the synth on a keyword API Gateway models do not support, or an object open to unknown keys', () => {
    const draft4 = 'http://json-schema.org/draft-04/schema#';
    const closed = { additionalProperties: false };
    expect(() =>
      toApiGatewayDraft4({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' }),
    ).toThrow(/draft-4/);
    expect(() =>
      toApiGatewayDraft4({ $schema: draft4, type: 'object', properties: { a: { const: 1 } }, ...closed }),
    ).toThrow(/"const"/);
    expect(() =>
      toApiGatewayDraft4({ $schema: draft4, type: 'object', properties: { a: { $ref: '#/x' } }, ...closed }),
    ).toThrow(/"\$ref"/);
    expect(() =>
      toApiGatewayDraft4({
        $schema: draft4,
        type: 'object',
        properties: { a: { type: 'string', format: 'email' } },
        ...closed,
      }),
    ).toThrow(/"format"/);
    expect(() => toApiGatewayDraft4({ $schema: draft4, type: 'number', exclusiveMinimum: 0 })).toThrow(
      /boolean in draft 4/,
    );
    expect(() =>
      toApiGatewayDraft4({ $schema: draft4, type: 'object', properties: { a: { type: 'string' } } }),
    ).toThrow(/unknown keys/);
  });
});
