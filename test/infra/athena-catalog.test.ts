import { beforeAll, describe, expect, it } from 'vitest';
import { parseSettings } from '../../infra/settings.js';
import { NAMED_QUERIES } from '../../lambda/dataset/named-queries.js';
import { schemaJsonText, type DatasetSchema } from '../../lambda/dataset/dataset-schema.js';
import { datasetFolder, parquetPartFile, rootedKey } from '../../lambda/layout/key-layout.js';
import { parseConfig } from '../../lambda/validation/validate.js';
import { getAtt, idOf, logicalIdsOfType, ref, synthStack, type Synthesized } from './synth-stack.js';

// What each schema.json type must be in Glue (Athena reads Hive types), written out here: a wrong
// mapping in lambda/dataset/query-catalog.ts fails against it.
const GLUE_TYPE_OF: Record<string, string> = {
  int: 'bigint',
  float: 'double',
  string: 'string',
  category: 'string',
  timestamp: 'timestamp',
};

/** schema.json as a dataset of this config gets it. */
const schemaOf = (config: Record<string, unknown>): DatasetSchema =>
  JSON.parse(schemaJsonText(parseConfig(config))) as DatasetSchema;

type Resource = Synthesized['json']['Resources'][string];
const resourcesOfType = (s: Synthesized, type: string): Resource[] =>
  logicalIdsOfType(s.json, type).map((id) => s.json.Resources[id]);
const tablesOf = (s: Synthesized): Resource[] => resourcesOfType(s, 'AWS::Glue::Table');
const tableNamed = (s: Synthesized, name: string): Resource => {
  const table = tablesOf(s).find((t) => t.Properties.TableInput.Name === name);
  if (!table) throw new Error(`no Glue table ${name}`);
  return table;
};
const s3Url = (bucketId: string, path: string) => ({ 'Fn::Join': ['', ['s3://', ref(bucketId), path]] });

let s: Synthesized;
let ids: { bucket: string; accessLogs: string; results: string; database: string; workGroup: string };
beforeAll(() => {
  s = synthStack();
  const { stack } = s;
  ids = {
    bucket: idOf(stack, stack.bucket),
    accessLogs: idOf(stack, stack.accessLogsBucket),
    results: idOf(stack, stack.athena.resultsBucket),
    database: stack.resolve(stack.athena.database.logicalId) as string,
    workGroup: stack.resolve(stack.athena.workGroup.logicalId) as string,
  };
});

describe('Glue catalog', () => {
  it('is one database, named by the glueDatabaseName setting (default tierdrift)', () => {
    expect(resourcesOfType(s, 'AWS::Glue::Database')).toHaveLength(1);
    expect(s.json.Resources[ids.database].Properties).toMatchObject({
      CatalogId: ref('AWS::AccountId'),
      DatabaseInput: { Name: 'tierdrift' },
    });
    const other = synthStack({ 'tierdrift:glueDatabaseName': 'tierdrift_staging' });
    expect(resourcesOfType(other, 'AWS::Glue::Database')[0].Properties.DatabaseInput.Name).toBe('tierdrift_staging');
  });

  it("has one table per schema.json table, each with schema.json's columns in file order and their types", () => {
    const schema = schemaOf({});
    expect(
      tablesOf(s)
        .map((t) => t.Properties.TableInput.Name as string)
        .sort(),
    ).toEqual(schema.tables.map((t) => t.name).sort());
    for (const table of schema.tables) {
      const columns = (
        tableNamed(s, table.name).Properties.TableInput.StorageDescriptor.Columns as {
          Name: string;
          Type: string;
          Comment: string;
        }[]
      ).map(({ Name, Type }) => ({ Name, Type }));
      expect(columns, table.name).toEqual(table.columns.map((c) => ({ Name: c.name, Type: GLUE_TYPE_OF[c.type] })));
    }
    // The config changes no type (open-ended tiers only make until_datetime nullable): one catalog serves every dataset.
    const openEnded = schemaOf({ openEndedTiers: true, engine: 'seedrandom' });
    for (const table of openEnded.tables) {
      const columns = tableNamed(s, table.name).Properties.TableInput.StorageDescriptor.Columns as { Type: string }[];
      expect(
        columns.map((c) => c.Type),
        table.name,
      ).toEqual(table.columns.map((c) => GLUE_TYPE_OF[c.type]));
    }
  });

  it('reads Parquet: Hive Parquet SerDe, input and output formats, an external table in the database', () => {
    for (const table of tablesOf(s)) {
      const props = table.Properties;
      expect(props.DatabaseName).toEqual(ref(ids.database));
      expect(props.CatalogId).toEqual(ref('AWS::AccountId'));
      expect(props.TableInput.TableType).toBe('EXTERNAL_TABLE');
      expect(props.TableInput.StorageDescriptor).toMatchObject({
        InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
        OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
        SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        Location: s3Url(ids.bucket, '/tierdrift/'),
      });
    }
  });

  it('projects seed and hash into every table (injected, no crawler), over the folder the Parquet parts are written to', () => {
    for (const table of tablesOf(s)) {
      const input = table.Properties.TableInput;
      expect(input.PartitionKeys.map(({ Name, Type }: { Name: string; Type: string }) => ({ Name, Type }))).toEqual([
        { Name: 'seed', Type: 'string' },
        { Name: 'hash', Type: 'string' },
      ]);
      expect(input.Parameters).toMatchObject({
        classification: 'parquet',
        'projection.enabled': 'true',
        'projection.seed.type': 'injected',
        'projection.hash.type': 'injected',
      });
      const template = input.Parameters['storage.location.template'];
      expect(template).toEqual(s3Url(ids.bucket, `/tierdrift/seed=\${seed}/\${hash}/parquet/${input.Name}/`));
      // Filled in for one dataset, the template is the folder of the parts the key layout names.
      const folder = (template['Fn::Join'][1][2] as string)
        .replace('${seed}', '42')
        .replace('${hash}', 'fe0bbb5cee398a3b');
      const firstPart = `/${rootedKey('tierdrift', `${datasetFolder(42, 'fe0bbb5cee398a3b')}/${parquetPartFile(input.Name, 0)}`)}`;
      expect(firstPart.startsWith(folder), `${firstPart} under ${folder}`).toBe(true);
      expect(firstPart.slice(folder.length)).not.toContain('/');
    }
  });

  it('follows the root prefix', () => {
    const other = synthStack({ 'tierdrift:rootPrefix': 'data/tierdrift' });
    const template = tableNamed(other, 'uploads').Properties.TableInput.Parameters['storage.location.template'];
    expect(template['Fn::Join'][1][2]).toBe('/data/tierdrift/seed=${seed}/${hash}/parquet/uploads/');
  });
});

describe('Athena workgroup', () => {
  it('enforces its configuration: SSE-S3 encrypted results in the results bucket, the bytes-scanned cutoff, engine v3', () => {
    expect(resourcesOfType(s, 'AWS::Athena::WorkGroup')).toHaveLength(1);
    const wg = s.json.Resources[ids.workGroup].Properties;
    expect(wg.Name).toBe('Tierdrift');
    expect(wg.State).toBe('ENABLED');
    expect(wg.WorkGroupConfiguration).toEqual({
      EnforceWorkGroupConfiguration: true,
      BytesScannedCutoffPerQuery: 10_000_000_000,
      PublishCloudWatchMetricsEnabled: true,
      RequesterPaysEnabled: false,
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      ResultConfiguration: {
        OutputLocation: s3Url(ids.results, '/results/'),
        EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        ExpectedBucketOwner: ref('AWS::AccountId'),
      },
    });
  });

  it('takes the cutoff and the results retention from the settings, and refuses a cutoff below Athena’s 10 MB and a bad database name', () => {
    const other = synthStack({
      'tierdrift:athenaBytesScannedCutoff': '50000000',
      'tierdrift:athenaResultsRetentionDays': '3',
    });
    const wg = resourcesOfType(other, 'AWS::Athena::WorkGroup')[0].Properties;
    expect(wg.WorkGroupConfiguration.BytesScannedCutoffPerQuery).toBe(50_000_000);
    const results = other.json.Resources[idOf(other.stack, other.stack.athena.resultsBucket)].Properties;
    expect(results.LifecycleConfiguration.Rules).toContainEqual({
      Id: 'expire-query-results',
      Status: 'Enabled',
      ExpirationInDays: 3,
    });
    expect(() => parseSettings({ athenaBytesScannedCutoff: '9999999', glueDatabaseName: 'Tier-Drift' })).toThrow(
      /tierdrift:glueDatabaseName: must be lowercase letters.*"Tier-Drift"[\s\S]*tierdrift:athenaBytesScannedCutoff: must be an integer from 10000000 /,
    );
  });

  it('writes results to a bucket like the dataset bucket: private, SSE-S3, TLS only, access-logged; results expire', () => {
    const bucket = s.json.Resources[ids.results];
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: ref(ids.accessLogs), LogFilePrefix: 'athena-results/' },
      LifecycleConfiguration: {
        Rules: [
          { Id: 'expire-query-results', Status: 'Enabled', ExpirationInDays: 30 },
          {
            Id: 'abort-incomplete-multipart-uploads',
            Status: 'Enabled',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
      },
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(ids.results),
      PolicyDocument: {
        Statement: [
          {
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Resource: [getAtt(ids.results), { 'Fn::Join': ['', [getAtt(ids.results), '/*']] }],
          },
        ],
        Version: '2012-10-17',
      },
    });
  });

  it('holds every named query of lambda/dataset/named-queries.ts, on the database, with its placeholders explained', () => {
    const saved = resourcesOfType(s, 'AWS::Athena::NamedQuery').map((r) => r.Properties);
    expect(saved.map((q) => q.Name).sort()).toEqual(NAMED_QUERIES.map((q) => q.name).sort());
    for (const query of NAMED_QUERIES) {
      const props = saved.find((q) => q.Name === query.name)!;
      expect(props.QueryString).toBe(query.sql);
      expect(props.WorkGroup).toEqual(ref(ids.workGroup));
      expect(props.Database).toEqual(ref(ids.database));
      expect(props.Description.length, query.name).toBeLessThanOrEqual(1024);
      for (const placeholder of query.placeholders) expect(props.Description).toContain(`:${placeholder} (`);
    }
    // The questions users ask are there.
    expect(NAMED_QUERIES.map((q) => q.name)).toEqual(
      expect.arrayContaining([
        'integrity-checks',
        'uploads-50gb-while-free',
        'label-rate-by-scenario',
        'user-tier-timeline',
      ]),
    );
  });

  it('offers a managed policy for querying: the workgroup, the catalog tables, reading the datasets, the results', () => {
    const policyId = idOf(s.stack, s.stack.athena.queryPolicy);
    const statements = s.json.Resources[policyId].Properties.PolicyDocument.Statement as {
      Sid: string;
      Action: string | string[];
      Resource: unknown;
      Condition?: unknown;
    }[];
    const bySid = Object.fromEntries(statements.map((st) => [st.Sid, st]));
    const arn = (service: string, resource: string) => ({
      'Fn::Join': [
        '',
        ['arn:', ref('AWS::Partition'), `:${service}:`, ref('AWS::Region'), ':', ref('AWS::AccountId'), `:${resource}`],
      ],
    });
    expect(bySid.RunQueriesInWorkGroup.Resource).toEqual(arn('athena', 'workgroup/Tierdrift'));
    expect(bySid.BrowseDataCatalog.Resource).toEqual(arn('athena', 'datacatalog/AwsDataCatalog'));
    // No statement on every resource: each names the stack's own.
    expect(statements.filter((st) => JSON.stringify(st.Resource) === '"*"')).toEqual([]);
    const catalog = [
      arn('glue', 'catalog'),
      arn('glue', 'database/tierdrift'),
      ...tablesOf(s).map((t) => arn('glue', `table/tierdrift/${t.Properties.TableInput.Name as string}`)),
    ];
    expect(bySid.ReadCatalogTables.Resource).toHaveLength(catalog.length);
    expect(bySid.ReadCatalogTables.Resource).toEqual(expect.arrayContaining(catalog));
    // Read-only on the datasets: nothing but s3:GetObject on objects, listing only under the root.
    const onDatasets = statements.filter((st) => JSON.stringify(st.Resource).includes(ids.bucket));
    expect(onDatasets.flatMap((st) => st.Action).sort()).toEqual([
      's3:GetBucketLocation',
      's3:GetObject',
      's3:ListBucket',
    ]);
    expect(bySid.ReadDatasetObjects.Resource).toEqual({ 'Fn::Join': ['', [getAtt(ids.bucket), '/tierdrift/*']] });
    expect(bySid.ListDatasetFolders.Condition).toEqual({ StringLike: { 's3:prefix': ['tierdrift/*'] } });
    expect(bySid.ReadAndWriteQueryResults.Resource).toEqual({
      'Fn::Join': ['', [getAtt(ids.results), '/results/*']],
    });
    expect(s.json.Outputs.AthenaQueryPolicyArn.Value).toEqual(ref(policyId));
  });

  it('outputs the database, the workgroup and the results bucket', () => {
    expect(s.json.Outputs.GlueDatabaseName.Value).toEqual(ref(ids.database));
    expect(s.json.Outputs.AthenaWorkGroup.Value).toEqual(ref(ids.workGroup));
    expect(s.json.Outputs.AthenaResultsBucketName.Value).toEqual(ref(ids.results));
  });
});
