// The loopback S3 server is shared with the dev stack (`npm run dev`); tests use it from here.
export { startLocalS3, type LocalS3 } from '../../lambda/dev/local-s3-server.js';
