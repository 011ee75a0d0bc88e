// The loopback S3 server is shared with the dev stack (`npm run dev`); tests use it from here.
import { afterAll, beforeAll } from 'vitest';
import { startLocalS3, type LocalS3, type LocalS3Options } from '../../lambda/dev/local-s3-server.js';

export { startLocalS3, type LocalS3 };

/**
 * A loopback S3 server for the calling test file: started (and made the SDK's endpoint) before
 * the file's later `beforeAll` hooks, stopped after its tests. The returned handle forwards to the
 * running server, so hooks and tests use it as the server itself.
 */
export function useLocalS3(options: LocalS3Options = {}): LocalS3 {
  let server: LocalS3 | undefined;
  beforeAll(async () => {
    server = await startLocalS3(options);
    server.useAsSdkEndpoint();
  });
  afterAll(async () => {
    await server?.stop();
  });
  const running = (): LocalS3 => {
    if (!server) throw new Error('the loopback S3 server is not running (used outside the tests of this file?)');
    return server;
  };
  return new Proxy({} as LocalS3, {
    get(_target, property) {
      const value: unknown = Reflect.get(running(), property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(running()) : value;
    },
  });
}
