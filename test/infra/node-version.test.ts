import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUNDLE_TARGET } from '../../bin/build-bundle.mjs';
import { BUNDLING } from '../../infra/generator-function.js';
import { PROJECT_ROOT } from '../../infra/project-root.js';
import { synthStack } from './synth-stack.js';

const pkg = JSON.parse(readFileSync(`${PROJECT_ROOT}package.json`, 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const major = readFileSync(`${PROJECT_ROOT}.nvmrc`, 'utf8').trim();
const majorOf = (version: string) => version.replace(/^v/, '').split('.')[0];

describe('one Node major: the Lambda runtime, the bundles, engines, .nvmrc, and what npm scripts run on', () => {
  it('.nvmrc, engines, the node and @types/node dev dependencies agree', () => {
    expect(major).toMatch(/^\d+$/);
    expect(pkg.engines.node).toBe(`${major}.x`);
    expect(majorOf(pkg.devDependencies.node)).toBe(major);
    expect(majorOf(pkg.devDependencies['@types/node'])).toBe(major);
  });

  it('the tests run on it (npm puts the node dev dependency first on PATH), whatever the system Node', () => {
    expect(majorOf(process.version)).toBe(major);
  });

  it('the function runs it and both bundles target it', () => {
    expect(synthStack().stack.fn.runtime.name).toBe(`nodejs${major}.x`);
    expect(BUNDLING.target).toBe(`node${major}`);
    expect(BUNDLE_TARGET).toBe(`node${major}`);
  });
});
