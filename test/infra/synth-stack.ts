import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { settingsFromContext } from '../../infra/settings.js';
import { PROJECT_ROOT, TierdriftStack } from '../../infra/tierdrift-stack.js';

/** cdk.json's context: the feature flags and tierdrift settings `npx cdk synth` uses. */
export const CDK_JSON = JSON.parse(readFileSync(`${PROJECT_ROOT}cdk.json`, 'utf8')) as {
  app: string;
  context: Record<string, unknown>;
};

export interface Synthesized {
  app: App;
  stack: TierdriftStack;
  template: Template;
  /** The raw template (resources by logical id). */
  json: { Resources: Record<string, { Type: string; Properties?: any; DependsOn?: string[]; DeletionPolicy?: string; UpdateReplacePolicy?: string; Metadata?: any }>; Outputs: Record<string, any> };
}

/**
 * The stack as `infra/app.ts` builds it, with cdk.json's context plus `context` (values given as
 * strings, as `-c key=value` gives them), in process. For speed, bundling is skipped (the CLI
 * synth test bundles) and CDK's built-in CloudFormation validation is off (the CLI synth test
 * keeps it on).
 */
export function synthStack(context: Record<string, unknown> = {}): Synthesized {
  const app = new App({
    context: { ...CDK_JSON.context, ...context, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stack = new TierdriftStack(app, 'Tierdrift', { settings: settingsFromContext(app.node) });
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as Synthesized['json'] };
}

/** Logical ids of the resources of one type. */
export function logicalIdsOfType(json: Synthesized['json'], type: string): string[] {
  return Object.entries(json.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);
}

/** The single resource of a type (fails when there are none or several). */
export function onlyOfType(json: Synthesized['json'], type: string): { id: string; resource: Synthesized['json']['Resources'][string] } {
  const ids = logicalIdsOfType(json, type);
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}: ${ids.join(', ')}`);
  return { id: ids[0], resource: json.Resources[ids[0]] };
}

export const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
export const ref = (id: string) => ({ Ref: id });

/** The logical id of an L2 construct's CloudFormation resource. */
export function idOf(stack: TierdriftStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;
}
