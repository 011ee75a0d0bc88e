import { describe, expect, it } from 'vitest';
import { EnvironmentError, loadEnvironment } from '../lambda/handler/environment.js';
import { bucketNameProblem, isS3Uri, readS3Uri } from '../lambda/storage/s3-location.js';

describe('S3 locations', () => {
  it('the scheme is case-insensitive', () => {
    for (const uri of ['s3://data/x', 'S3://data/x', 's3://data']) expect(isS3Uri(uri), uri).toBe(true);
    for (const uri of ['./s3://data', 's3:/data', 'data/s3://x', '']) expect(isS3Uri(uri), uri).toBe(false);
    expect(readS3Uri('S3://data//a/b/')).toEqual({ ok: true, location: { bucket: 'data', root: 'a/b' } });
    expect(readS3Uri('s3://data')).toEqual({ ok: true, location: { bucket: 'data', root: '' } });
  });

  it("names the first of S3's general-purpose bucket naming rules a name breaks", () => {
    const cases: Array<[string, string | undefined]> = [
      ['abc', undefined],
      ['a'.repeat(63), undefined],
      ['my.bucket-1', undefined],
      ['192.168.5.4x', undefined],
      ['xn-bucket', undefined],
      ['ab', 'must be 3 to 63 characters long'],
      ['a'.repeat(64), 'must be 3 to 63 characters long'],
      ['', 'must be 3 to 63 characters long'],
      ['Bucket', 'may contain only lowercase letters, digits, dots (.) and hyphens (-)'],
      ['my_bucket', 'may contain only lowercase letters, digits, dots (.) and hyphens (-)'],
      ['-bucket', 'must begin and end with a letter or digit'],
      ['bucket.', 'must begin and end with a letter or digit'],
      ['my..bucket', 'must not contain two adjacent periods'],
      ['192.168.5.4', 'must not be formatted as an IP address'],
      ...['xn--b', 'sthree-b', 'amzn-s3-demo-b'].map((n): [string, string] => [
        n,
        'must not start with xn--, sthree- or amzn-s3-demo-',
      ]),
      ...['b-s3alias', 'b--ol-s3', 'b.mrap', 'b--x-s3', 'b--table-s3'].map((n): [string, string] => [
        n,
        'must not end with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3',
      ]),
    ];
    for (const [name, rule] of cases)
      expect(bucketNameProblem(name), name).toBe(rule && `bucket name ${JSON.stringify(name)} ${rule}`);
    expect(readS3Uri('s3://my..bucket/x')).toEqual({
      ok: false,
      problem: 'bucket name "my..bucket" must not contain two adjacent periods',
    });
  });

  it("the Lambda's BUCKET_NAME follows the same rules, naming the one broken", () => {
    expect(loadEnvironment({ BUCKET_NAME: 'my.bucket-1' }).bucket).toBe('my.bucket-1');
    for (const [name, rule] of [
      ['my..bucket', 'must not contain two adjacent periods'],
      ['b--x-s3', 'must not end with'],
    ]) {
      const problems = (() => {
        try {
          loadEnvironment({ BUCKET_NAME: name });
        } catch (error) {
          return (error as EnvironmentError).problems;
        }
      })();
      expect(problems).toHaveLength(1);
      expect(problems![0].variable).toBe('BUCKET_NAME');
      expect(problems![0].rule).toContain(rule);
    }
  });
});
