// The loopback S3 server (lambda/dev/local-s3-server.ts) in a process of its own, for `npm run bench`:
// the CLI's peak RSS must not include it (it keeps every object in memory). Prints its endpoint and
// serves bucket `bench` until its stdin closes.
import { startLocalS3 } from '../lambda/dev/local-s3-server.js';

const s3 = await startLocalS3();
await s3.createBucket('bench');
process.stdout.write(`${s3.endpoint}\n`);
process.stdin.resume();
process.stdin.on('end', () => void s3.stop().then(() => process.exit(0)));
