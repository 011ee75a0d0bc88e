// Imports run one way: `npm test` fails on any cycle (between files or between folders) and on any
// import from a lower layer into a higher one. docs/architecture.md explains the layers.

/**
 * lambda/'s folders, lowest layer first. A folder may import its own layer and the layers below,
 * never a layer above.
 */
const LAYERS = [
  ['errors', 'time', 'rng', 'libm', 'layout'], // exact maths, errors, the key layout and table names
  ['storage'], // the DatasetStorage port and its local-folder and S3 implementations
  ['config'], // the config schema, task settings, canonical JSON, dataset id
  ['settings'], // the function's settings
  ['engine'], // the engines: generate users, nothing else
  ['tasks', 'validation'], // the benchmark task's logic; config validation (needs the engines' upload bound)
  ['rows'], // generated users → rows and bytes: CSV formatting, integrity checks, per-user tables, task rows
  ['dataset'], // a published dataset: manifest, schema.json, check notes, reading CSVs back
  ['report'], // the dataset's report.html: charts (Vega-Lite → SVG) and tables from the aggregates
  ['threads'], // generate and format on worker threads: protocol, batch codec, table split, user blocks
  ['publish'], // generate → write through storage → manifest last; verify; fetch
  ['catalog', 'evaluation'], // what the Lambda does with published datasets; evaluating predictions
  ['fanout'], // the fan-out's steps and their payloads
  ['handler', 'cli'], // the entry points
  ['dev'], // npm run dev: the local stack, synthesized from infra/
];

const folders = (layers) => `^lambda/(${layers.flat().join('|')})/`;

const layerRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layer-${layer.join('-')}`,
  severity: 'error',
  comment: `lambda/{${layer.join(',')}} may not import a higher layer`,
  from: { path: folders([layer]) },
  to: { path: folders(LAYERS.slice(index + 1)) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module may not reach itself again through its imports.',
      from: { path: '^(lambda|infra|bin)/' },
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      severity: 'error',
      comment: 'Folders import each other one way too.',
      scope: 'folder',
      from: { path: '^(lambda|infra|bin)/' },
      to: { circular: true },
    },
    {
      name: 'no-unlisted-lambda-folder',
      severity: 'error',
      comment: 'Every lambda/ folder has a layer in .dependency-cruiser.cjs.',
      from: { path: '^lambda/[^/]+/', pathNot: folders(LAYERS) },
      to: {},
    },
    ...layerRules,
    {
      name: 'lambda-not-infra',
      severity: 'error',
      comment: 'The function does not import the stack; only lambda/dev/ synthesizes it.',
      from: { path: '^lambda/', pathNot: '^lambda/dev/' },
      to: { path: '^(infra|bin)/' },
    },
    {
      name: 'infra-pure-lambda-only',
      severity: 'error',
      comment:
        'The stack reads lambda/ contracts only: config schema, settings, key layout, fan-out payloads, and the ' +
        "query catalog (tables and types from schema.json's source) and named queries its Athena part declares.",
      from: { path: '^infra/' },
      to: {
        path: '^lambda/',
        pathNot: [
          '^lambda/(config|settings|layout)/',
          '^lambda/fanout/fanout-payloads\\.ts$',
          '^lambda/dataset/(query-catalog|named-queries)\\.ts$',
        ],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mts', '.mjs', '.js', '.d.mts', '.d.ts', '.json'],
    },
  },
};
