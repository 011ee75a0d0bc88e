import { S3Client } from '@aws-sdk/client-s3';

/**
 * An S3 client from the SDK's standard configuration: region, credentials and endpoint
 * (`AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`) come from the environment or AWS config files.
 * `S3_FORCE_PATH_STYLE=true` selects path-style addressing, which S3-compatible servers
 * (MinIO, local emulators) usually need.
 */
export function createS3Client(): S3Client {
  return new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
}
