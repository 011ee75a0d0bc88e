import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetDescription } from '../lambda/catalog/describe-dataset.js';
import { startDevStack, type DevStack } from '../lambda/dev/dev-server.js';
import { synthesizedFanout } from '../lambda/dev/synthesized-fanout.js';
import { localFanout } from '../infra/synthesize.js';

let stack: DevStack;
beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.SYNC_MAX_USERS = '100'; // the stack reads its settings from the environment, like the Lambda
  process.env.FANOUT_MIN_USERS = '1000';
  stack = await startDevStack(0);
});
afterAll(() => stack.stop());

describe('npm run dev: the local stack', () => {
  it('listens on loopback only, S3 included', () => {
    expect(new URL(stack.url).hostname).toBe('127.0.0.1');
    expect(new URL(stack.s3.endpoint).hostname).toBe('127.0.0.1');
  });

  it('POST /datasets then download every file through its returned URL, checksums matching the manifest', async () => {
    const response = await fetch(`${stack.url}/datasets`, { method: 'POST', body: '{"seed":7}' });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toMatch(/^\/datasets\/seed-7-[0-9a-f]{16}$/);
    const body = (await response.json()) as DatasetDescription;
    for (const file of body.files) {
      const download = await fetch(file.url);
      expect(download.status).toBe(200);
      // The report opens as a page from its URL.
      if (file.name === 'report.html') expect(download.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const bytes = Buffer.from(await download.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(
        body.manifest.files.find((f) => f.name === file.name)!.sha256,
      );
    }
    const again = await fetch(`${stack.url}/datasets`, { method: 'POST', body: '{"seed":7}' });
    expect(again.status).toBe(200);
  });

  it('runs a background hand-off in the same process: 202, then 200 once it is done', async () => {
    const body = JSON.stringify({ seed: 9, users: 500 });
    const response = await fetch(`${stack.url}/datasets`, { method: 'POST', body });
    expect(response.status).toBe(202);
    const location = response.headers.get('location')!;
    let status = 202;
    for (let i = 0; i < 200 && status === 202; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await fetch(`${stack.url}${location}`)).status;
    }
    expect(status).toBe(200);
  });

  it('runs a fan-out in the synthesized state machine (emulated): 202, one execution that succeeds, then 200', async () => {
    const response = await fetch(`${stack.url}/datasets`, {
      method: 'POST',
      body: JSON.stringify({ engine: 'seedrandom', seed: 11, users: 1200 }),
    });
    expect(response.status).toBe(202);
    const location = response.headers.get('location')!;
    await stack.fanout.settled();
    expect(stack.fanout.list()).toEqual([{ name: location.split('/').at(-1), status: 'SUCCEEDED' }]);
    expect((await fetch(`${stack.url}${location}`)).status).toBe(200);
  });

  it("its fan-out definition, cached for the sources it was synthesized from, is the stack's as synthesized now", async () => {
    expect(await synthesizedFanout()).toEqual(localFanout());
  });

  it('answers errors as JSON', async () => {
    const response = await fetch(`${stack.url}/datasets`, { method: 'POST', body: '{"seed":' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ message: 'request body is not JSON' });
  });
});
