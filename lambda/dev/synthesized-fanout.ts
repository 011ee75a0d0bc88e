import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { PROJECT_ROOT, sourceFingerprint } from '../../bin/source-fingerprint.mjs';
import type { LocalStateMachineOptions } from './local-state-machine.js';

export type SynthesizedFanout = Pick<LocalStateMachineOptions, 'definition' | 'taskTimeoutSeconds'>;

/** What the synthesized stack is made from: the CDK app, the lambda/ modules it imports, cdk.json's context, the locked aws-cdk-lib. */
const SOURCES = ['infra', 'lambda', 'cdk.json', 'package-lock.json'];

/**
 * The fan-out definition of the stack synthesized in process (infra/synthesize.ts, localFanout),
 * kept under node_modules/.cache for the sources it was made from: synthesizing takes about 2 s,
 * most of it loading aws-cdk-lib, which a cached start does not load at all.
 */
export async function synthesizedFanout(): Promise<SynthesizedFanout> {
  const file = `${PROJECT_ROOT}node_modules/.cache/tierdrift-dev/fanout-${sourceFingerprint(SOURCES)}.json`;
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as SynthesizedFanout;
  const { localFanout } = await import('../../infra/synthesize.js');
  const fanout = localFanout();
  mkdirSync(`${PROJECT_ROOT}node_modules/.cache/tierdrift-dev`, { recursive: true });
  writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(fanout));
  renameSync(`${file}.${process.pid}.tmp`, file); // whole or not at all
  return fanout;
}
