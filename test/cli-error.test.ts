import { describe, expect, it } from 'vitest';
import { CliError, failureReport } from '../lambda/cli/cli-error.js';
import { OperationError } from '../lambda/errors/operation-error.js';

const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });

describe('failureReport: what the CLI prints for a failure', () => {
  it('an AbortError shows its cause chain on one line, not just "The operation was aborted"', () => {
    const error = new DOMException('The operation was aborted', 'AbortError');
    Object.defineProperty(error, 'cause', { value: new Error('upload failed', { cause: reset() }) });
    expect(failureReport(error, 'generate s3://b/x', false)).toEqual({
      text: 'error: generate s3://b/x: AbortError: The operation was aborted: upload failed: read ECONNRESET (run with --debug for the stack)',
      exitCode: 1,
    });
  });

  it('a code the message does not name is added; an AggregateError without a message lists its errors', () => {
    const hangUp = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(failureReport(hangUp, 'verify s3://b/x', false).text).toBe(
      'error: verify s3://b/x: socket hang up (ECONNRESET) (run with --debug for the stack)',
    );
    const refused = (port: number) =>
      Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });
    const aggregate = Object.assign(new AggregateError([refused(1), refused(2)]), { code: 'ECONNREFUSED' });
    expect(failureReport(aggregate, 'fetch s3://b/x', false).text).toBe(
      'error: fetch s3://b/x: AggregateError: connect ECONNREFUSED 127.0.0.1:1; connect ECONNREFUSED 127.0.0.1:2 (run with --debug for the stack)',
    );
  });

  it('an OperationError prints its message alone; with debug, the stack and the cause chain follow', () => {
    const error = new OperationError('disk full writing /data/x/uploads.csv', {
      cause: Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
    });
    expect(failureReport(error, 'generate /data', false)).toEqual({
      text: 'error: disk full writing /data/x/uploads.csv',
      exitCode: 1,
    });
    const debug = failureReport(error, 'generate /data', true).text.split('\n');
    expect(debug[0]).toBe('error: disk full writing /data/x/uploads.csv');
    expect(debug.some((line) => /^\s+at /.test(line))).toBe(true);
    expect(debug.some((line) => line.includes('[cause]: Error: ENOSPC: no space left on device, write'))).toBe(true);
  });

  it('bad input keeps its exit code and message; a thrown non-error is shown on one line', () => {
    expect(failureReport(new CliError("--dest '': must not be empty"), 'generate', true)).toEqual({
      text: "error: --dest '': must not be empty",
      exitCode: 2,
    });
    expect(failureReport({ status: 503, reason: 'SlowDown' }, 'generate s3://b', false).text).toBe(
      "error: generate s3://b: { status: 503, reason: 'SlowDown' } (run with --debug for the stack)",
    );
  });
});
