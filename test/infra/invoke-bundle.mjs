// Runs the deployed artifact the way the Lambda runtime does: Node's own ESM loader imports the
// bundled index.mjs (no test transform in between), then its `handler` gets one event.
// Usage: node invoke-bundle.mjs <bundle folder> <event.json>; prints `@@RESULT <json>` last.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, eventFile] = process.argv.slice(2);
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  awsRequestId: 'bundle-test-request',
  getRemainingTimeInMillis: () => 900_000,
};
let outcome;
try {
  const { handler } = await import(pathToFileURL(join(dir, 'index.mjs')).href);
  const event = JSON.parse(await readFile(eventFile, 'utf8'));
  outcome = { ok: true, result: await handler(event, context) };
} catch (error) {
  outcome = { ok: false, error: String(error?.stack ?? error) };
}
process.stdout.write(`\n@@RESULT ${JSON.stringify({ ...outcome, node: process.versions.node })}\n`);
