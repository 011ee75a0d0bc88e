import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { NAMED_QUERIES, PLACEHOLDERS } from '../lambda/dataset/named-queries.js';
import { catalogTables, PARTITION_COLUMNS, type CatalogColumn } from '../lambda/dataset/query-catalog.js';
import {
  datasetFolder,
  fileKey,
  parquetTableFolder,
  rootedKey,
  rootObjectsPattern,
} from '../lambda/layout/key-layout.js';
import type { TierdriftSettings } from './settings.js';
import { logicalIdOf } from './stack-part.js';

export interface AthenaCatalogProps {
  settings: Pick<
    TierdriftSettings,
    'rootPrefix' | 'glueDatabaseName' | 'athenaBytesScannedCutoff' | 'athenaResultsRetentionDays'
  >;
  /** The dataset bucket the tables read. */
  bucket: s3.IBucket;
  /** Where the results bucket's server access logs go (the dataset bucket's log bucket). */
  accessLogsBucket: s3.IBucket;
  /** The workgroup's name. */
  workGroupName: string;
}

export const ATHENA_ENGINE_VERSION = 'Athena engine version 3';
/** Where the workgroup writes query results, in the results bucket. */
export const RESULTS_PREFIX = 'results/';

/** The Parquet SerDe and formats of Hive, as Glue's Parquet tables declare them. */
export const PARQUET_STORAGE = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serdeInfo: {
    serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    parameters: { 'serialization.format': '1' },
  },
};

/**
 * Where a table's Parquet parts are, under the root, with Athena's projection variables in place of
 * the dataset's seed and hash (`storage.location.template`): the key layout's own functions.
 */
export const projectedTableFolder = (root: string, table: string): string =>
  `${rootedKey(root, fileKey(datasetFolder('${seed}', '${hash}'), parquetTableFolder(table)))}/`;

/** `upload_50gb_next_hour` → `Upload50gbNextHour`: construct ids from table and query names. */
const pascal = (name: string): string =>
  name
    .split(/[^A-Za-z0-9]+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

const glueColumn = (c: CatalogColumn): glue.CfnTable.ColumnProperty => ({
  name: c.name,
  type: c.type,
  comment: c.comment,
});

/**
 * The datasets as Athena tables (docs/athena.md): a Glue database with one table per dataset table
 * over its Parquet folders, partition projection injecting `seed` and `hash` (no crawler, no
 * partitions to add: a dataset is queryable once published); a workgroup that enforces its
 * encrypted results location and a bytes-scanned limit; the named queries of
 * lambda/dataset/named-queries.ts; the results bucket (logged, encrypted and TLS-only like the
 * dataset bucket); and a managed policy with exactly what querying through the workgroup needs,
 * for deployers to attach to the roles that query.
 */
export class AthenaCatalog extends Construct {
  readonly database: glue.CfnDatabase;
  readonly tables: glue.CfnTable[];
  readonly workGroup: athena.CfnWorkGroup;
  readonly namedQueries: athena.CfnNamedQuery[];
  readonly resultsBucket: s3.Bucket;
  readonly queryPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: AthenaCatalogProps) {
    super(scope, id);
    const { settings, bucket } = props;
    const stack = Stack.of(this);
    const root = settings.rootPrefix;

    this.resultsBucket = new s3.Bucket(this, 'Results', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [
        // Results are reproducible from the datasets: kept for reading, then expired.
        { id: 'expire-query-results', expiration: Duration.days(settings.athenaResultsRetentionDays) },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: settings.glueDatabaseName,
        description: `tierdrift datasets under s3://${bucket.bucketName}/${rootedKey(root, '')}: one table per dataset table, each dataset named by seed and hash`,
      },
    });

    this.tables = catalogTables().map(
      (table) =>
        new glue.CfnTable(this, `Table${pascal(table.name)}`, {
          catalogId: stack.account,
          databaseName: this.database.ref,
          tableInput: {
            name: table.name,
            description: `${table.description} (schema.json: ${table.file})`,
            tableType: 'EXTERNAL_TABLE',
            parameters: {
              EXTERNAL: 'TRUE',
              classification: 'parquet',
              // Partition projection: the seed and hash come from each query's WHERE clause.
              'projection.enabled': 'true',
              'projection.seed.type': 'injected',
              'projection.hash.type': 'injected',
              'storage.location.template': `s3://${bucket.bucketName}/${projectedTableFolder(root, table.name)}`,
            },
            partitionKeys: PARTITION_COLUMNS.map(glueColumn),
            storageDescriptor: {
              location: `s3://${bucket.bucketName}/${rootedKey(root, '')}`,
              columns: table.columns.map(glueColumn),
              ...PARQUET_STORAGE,
            },
          },
        }),
    );

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroupName,
      description: `tierdrift datasets (Glue database ${settings.glueDatabaseName}): encrypted results, bytes scanned capped`,
      state: 'ENABLED',
      // Deleting the stack deletes the workgroup with its named queries and history.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        // Clients cannot override the results location, its encryption or the cutoff.
        enforceWorkGroupConfiguration: true,
        bytesScannedCutoffPerQuery: settings.athenaBytesScannedCutoff,
        publishCloudWatchMetricsEnabled: true,
        requesterPaysEnabled: false,
        engineVersion: { selectedEngineVersion: ATHENA_ENGINE_VERSION },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/${RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: stack.account,
        },
      },
    });

    this.namedQueries = NAMED_QUERIES.map(
      (query) =>
        new athena.CfnNamedQuery(this, `Query${pascal(query.name)}`, {
          name: query.name,
          description: `${query.description} Replace ${query.placeholders.map((p) => `:${p} (${PLACEHOLDERS[p]})`).join(', ')} before running.`,
          database: this.database.ref,
          workGroup: this.workGroup.ref,
          queryString: query.sql,
        }),
    );

    const glueArn = (resource: string, resourceName?: string): string =>
      stack.formatArn({ service: 'glue', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const datasetObjects = rootObjectsPattern(root);
    const resultObjects = `${RESULTS_PREFIX}*`;
    this.queryPolicy = new iam.ManagedPolicy(this, 'QueryPolicy', {
      description: `Query tierdrift datasets with Athena: workgroup ${props.workGroupName}, Glue database ${settings.glueDatabaseName}, read-only on the datasets`,
      statements: [
        new iam.PolicyStatement({
          sid: 'RunQueriesInWorkGroup',
          actions: [
            'athena:StartQueryExecution',
            'athena:StopQueryExecution',
            'athena:GetQueryExecution',
            'athena:GetQueryResults',
            'athena:GetQueryRuntimeStatistics',
            'athena:ListQueryExecutions',
            'athena:GetWorkGroup',
            'athena:ListNamedQueries',
            'athena:GetNamedQuery',
            'athena:BatchGetNamedQuery',
          ],
          resources: [
            stack.formatArn({
              service: 'athena',
              resource: 'workgroup',
              resourceName: props.workGroupName,
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          ],
        }),
        // What the console and the JDBC/ODBC drivers call to browse the database and its tables.
        new iam.PolicyStatement({
          sid: 'BrowseDataCatalog',
          actions: [
            'athena:GetDataCatalog',
            'athena:ListDatabases',
            'athena:GetDatabase',
            'athena:ListTableMetadata',
            'athena:GetTableMetadata',
          ],
          resources: [
            stack.formatArn({
              service: 'athena',
              resource: 'datacatalog',
              resourceName: 'AwsDataCatalog',
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ReadCatalogTables',
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
          resources: [
            glueArn('catalog'),
            glueArn('database', settings.glueDatabaseName),
            ...catalogTables().map((t) => glueArn('table', `${settings.glueDatabaseName}/${t.name}`)),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ReadDatasetObjects',
          actions: ['s3:GetObject'],
          resources: [bucket.arnForObjects(datasetObjects)],
        }),
        new iam.PolicyStatement({
          sid: 'ListDatasetFolders',
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [datasetObjects] } },
        }),
        new iam.PolicyStatement({
          sid: 'ReadAndWriteQueryResults',
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [this.resultsBucket.arnForObjects(resultObjects)],
        }),
        new iam.PolicyStatement({
          sid: 'LocateBuckets',
          actions: ['s3:GetBucketLocation'],
          resources: [bucket.bucketArn, this.resultsBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'ListQueryResults',
          actions: ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [this.resultsBucket.bucketArn],
        }),
      ],
    });
    Validations.of(this.queryPolicy).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(bucket)}.Arn>/${datasetObjects}]`,
        reason:
          `Read-only (s3:GetObject) on the datasets under the root prefix: every dataset is a folder ` +
          `${root}/seed=<seed>/<config hash>/ made at run time, and a query may read any of them (the tables span ` +
          'all datasets; the seed and hash are chosen in the query). Nothing else in the bucket is readable.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(this.resultsBucket)}.Arn>/${resultObjects}]`,
        reason:
          'Athena writes each query result as an object named by the query execution id, made at run time, under ' +
          `${RESULTS_PREFIX} of the stack's own results bucket (which expires them); the caller reads them back.`,
      },
    );
  }
}
