import { readFile } from 'node:fs/promises';
import { parseUnambiguousJson } from '../config/unambiguous-json.js';
import { ConfigError, validateConfig } from '../validation/validate.js';
import type { GenerationConfig } from '../config/schema.js';
import { CliError } from './cli-error.js';

export interface ConfigFlags {
  config?: string;
  seed?: string;
  users?: string;
}

/** Reads `--config FILE`, applies `--seed`/`--users` on top, and validates the result. */
export async function loadConfig(flags: ConfigFlags): Promise<GenerationConfig> {
  let raw: unknown = {};
  if (flags.config) {
    let text: string;
    try {
      text = await readFile(flags.config, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read config file ${flags.config}: ${(error as Error).message}`);
    }
    const json = parseUnambiguousJson(text);
    if (!json.ok && 'syntaxError' in json)
      throw new CliError(`config file ${flags.config} is not valid JSON: ${json.syntaxError}`);
    if (!json.ok)
      throw new CliError(
        `config file ${flags.config} is ambiguous: ${json.duplicateKey} is given more than once in its object; give it once`,
      );
    raw = json.value;
  }
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  if (isObject && (flags.seed !== undefined || flags.users !== undefined)) {
    raw = {
      ...(raw as object),
      ...(flags.seed !== undefined && { seed: numberOrText(flags.seed) }),
      ...(flags.users !== undefined && { users: numberOrText(flags.users) }),
    };
  }
  const result = validateConfig(raw);
  if (!result.ok) throw new CliError(new ConfigError(result.problems).message);
  return result.config;
}

// Only plain decimal integers become numbers (not 0x10 or 1e1); anything else reaches
// validation as text, which then names the field and its rule.
function numberOrText(value: string): number | string {
  return /^-?\d+$/.test(value) ? Number(value) : value;
}
