import { validateConfig, type ValidationResult } from '../config/validate.js';

/**
 * Validates a requested config like every entry point does, plus this deployment's user cap
 * (`MAX_USERS`), reported with the other problems rather than as a separate kind of error.
 */
export function validateDatasetRequest(raw: unknown, maxUsers: number): ValidationResult {
  const result = validateConfig(raw);
  const users = (raw as { users?: unknown } | null)?.users;
  const usersOk = result.ok || !result.problems.some((p) => p.field === 'users');
  if (!usersOk || typeof users !== 'number' || users <= maxUsers) return result;
  const problem = { field: 'users', rule: `must be at most ${maxUsers} on this deployment (MAX_USERS)` };
  return { ok: false, problems: [...(result.ok ? [] : result.problems), problem] };
}
