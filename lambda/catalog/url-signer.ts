/** Makes a time-limited download URL for a storage key (S3: a presigned GET). */
export interface UrlSigner {
  signGet(key: string, expiresInSeconds: number): Promise<string>;
}
