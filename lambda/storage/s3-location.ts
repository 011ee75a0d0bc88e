/** `s3://bucket/some/root` → bucket and root (no leading or trailing slash). */
export interface S3Location {
  bucket: string;
  root: string;
}

const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

export function isS3Uri(text: string): boolean {
  return text.startsWith('s3://');
}

/** The bucket and key prefix of an `s3://` URI, or undefined when it is not one. */
export function parseS3Uri(text: string): S3Location | undefined {
  const m = S3_URI.exec(text);
  if (!m) return undefined;
  return { bucket: m[1], root: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}
