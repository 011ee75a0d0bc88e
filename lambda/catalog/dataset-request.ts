import { validateConfig, type ValidationResult } from '../validation/validate.js';
import { estimateOutput } from './output-estimate.js';
import { outputProblem } from './sync-rule.js';

/**
 * Validates a requested config like every entry point does, plus this deployment's user cap
 * (`MAX_USERS`, or `SINGLE_RUN_MAX_USERS` for what runs on one invocation), reported with the other
 * problems rather than as a separate kind of error; `setting` names the cap in the problem. With
 * `output`, a valid config estimated to write more than `output.maxBytes` is refused too.
 */
export function validateDatasetRequest(
  raw: unknown,
  maxUsers: number,
  setting?: string,
  output?: { maxBytes: number; setting: string },
): ValidationResult {
  const result = validateConfig(raw);
  const users = (raw as { users?: unknown } | null)?.users;
  const usersOk = result.ok || !result.problems.some((p) => p.field === 'users');
  if (!usersOk || typeof users !== 'number' || users <= maxUsers) {
    const tooBig = result.ok && output && outputProblem(estimateOutput(result.config), output.maxBytes, output.setting);
    return tooBig ? { ok: false, problems: [tooBig] } : result;
  }
  const problem = {
    field: 'users',
    rule: `must be at most ${maxUsers} on this deployment${setting ? ` (${setting})` : ''}`,
  };
  return { ok: false, problems: [...(result.ok ? [] : result.problems), problem] };
}
