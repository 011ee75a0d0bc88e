import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { rollingExpiryPrefix } from '../lambda/layout/key-layout.js';

export interface DatasetBucketsProps {
  rootPrefix: string;
  /** Days before a rolling nightly fixture expires. */
  rollingRetentionDays: number;
}

/** The dataset bucket and the bucket its server access logs go to (see infra/stack-part.ts for the scope). */
export class DatasetBuckets {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, props: DatasetBucketsProps) {
    this.accessLogsBucket = new s3.Bucket(scope, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED, // server access logs can only go to SSE-S3 buckets
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(365) },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    this.bucket = new s3.Bucket(scope, 'Datasets', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'datasets/',
      lifecycleRules: [
        // A failed run aborts its uploads; a killed one (timeout) cannot, so S3 cleans up its parts.
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // Rolling nightly fixtures get a new seed every day: keep the last N days of them.
        {
          id: 'expire-rolling-nightly-fixtures',
          prefix: rollingExpiryPrefix(props.rootPrefix),
          expiration: Duration.days(props.rollingRetentionDays),
        },
      ],
    });

    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the server-access-log destination of the dataset bucket; logging it into itself would ' +
        'create a log record for every log delivery. Public access is blocked, TLS is enforced and it is encrypted.',
    });
  }
}
