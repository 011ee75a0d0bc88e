/** `s3://bucket/some/root` → bucket and root (no leading or trailing slash). */
export interface S3Location {
  bucket: string;
  root: string;
}

// URI schemes are case-insensitive (RFC 3986 §3.1): `S3://b/x` is an S3 location, not a folder `S3:`.
const S3_SCHEME = /^s3:\/\//i;

/**
 * S3's naming rules for general-purpose buckets
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html), checked in this
 * order; the first broken one is named.
 */
const BUCKET_RULES: Array<[broken: (name: string) => boolean, rule: string]> = [
  [(n) => n.length < 3 || n.length > 63, 'must be 3 to 63 characters long'],
  [(n) => !/^[a-z0-9.-]*$/.test(n), 'may contain only lowercase letters, digits, dots (.) and hyphens (-)'],
  [(n) => !/^[a-z0-9](.*[a-z0-9])?$/.test(n), 'must begin and end with a letter or digit'],
  [(n) => n.includes('..'), 'must not contain two adjacent periods'],
  [(n) => /^\d{1,3}(\.\d{1,3}){3}$/.test(n), 'must not be formatted as an IP address'],
  [
    (n) => ['xn--', 'sthree-', 'amzn-s3-demo-'].some((p) => n.startsWith(p)),
    'must not start with xn--, sthree- or amzn-s3-demo-',
  ],
  [
    (n) => ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'].some((s) => n.endsWith(s)),
    'must not end with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3',
  ],
];

/** The S3 naming rule `name` breaks (`bucket "x" must …`), or undefined for a valid bucket name. */
export function bucketNameProblem(name: string): string | undefined {
  const broken = BUCKET_RULES.find(([isBroken]) => isBroken(name));
  return broken && `bucket name ${JSON.stringify(name)} ${broken[1]}`;
}

export function isS3Uri(text: string): boolean {
  return S3_SCHEME.test(text);
}

/** An `s3://bucket[/root]` URI read, or the rule it breaks. */
export type S3UriReading = { ok: true; location: S3Location } | { ok: false; problem: string };

export function readS3Uri(text: string): S3UriReading {
  if (!isS3Uri(text)) return { ok: false, problem: 'expected s3://<bucket>/<prefix>' };
  const rest = text.replace(S3_SCHEME, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const problem = bucketNameProblem(bucket);
  if (problem) return { ok: false, problem };
  return { ok: true, location: { bucket, root: slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '') } };
}
