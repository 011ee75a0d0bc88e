import type { GenerationConfig } from '../config/schema.js';
import type { CheckResult } from '../rows/integrity-checks.js';

/**
 * The reference engine keeps sub-second times and writes them truncated to the second (byte-exact
 * with the Python reference, so kept): a 50 GB upload in the last fraction of a second before a
 * downgrade is written in the downgrade's second, where the user is already free.
 */
const REFERENCE_TRUNCATION =
  'the reference engine keeps sub-second times and writes them truncated to the second, so a 50 GB upload ' +
  "in the last fraction of a second before a downgrade is written at the downgrade's second and reads as " +
  "made while free (about 1 user in 30,000 at the default rates); these are the reference's exact bytes, kept " +
  'on purpose. To avoid it, generate with "engine": "seedrandom" (whole-second times: every check passes by construction)';

/**
 * What a failed check means when it is a known, by-design behaviour of the engine, and how to
 * avoid it; undefined for a check that passed or a failure with no known cause.
 */
export function failedCheckNote(
  engine: GenerationConfig['engine'],
  check: Pick<CheckResult, 'name' | 'passed'>,
): string | undefined {
  if (check.passed) return undefined;
  if (engine === 'reference' && check.name === 'no_50gb_while_free') return REFERENCE_TRUNCATION;
  return undefined;
}
