// The stack synthesized in this process, for the tests and `npm run dev` (which runs the fan-out
// state machine's synthesized definition in an emulator). `npx cdk synth` uses infra/app.ts.
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { settingsFromContext } from './settings.js';
import { FUNCTION_TIMEOUT } from './generator-function.js';
import { PROJECT_ROOT } from './project-root.js';
import { TierdriftStack } from './tierdrift-stack.js';

/** cdk.json's context: the feature flags and tierdrift settings `npx cdk synth` uses. */
export const CDK_JSON = JSON.parse(readFileSync(`${PROJECT_ROOT}cdk.json`, 'utf8')) as {
  app: string;
  context: Record<string, unknown>;
};

/**
 * The stack as `infra/app.ts` builds it, with cdk.json's context plus `context` (values given as
 * strings, as `-c key=value` gives them). For speed, bundling is skipped (the CLI synth test
 * bundles) and CDK's built-in CloudFormation validation is off (the CLI synth test keeps it on).
 */
export function synthesizeStack(context: Record<string, unknown> = {}): { app: App; stack: TierdriftStack } {
  const app = new App({
    context: { ...CDK_JSON.context, ...context, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  return { app, stack: new TierdriftStack(app, 'Tierdrift', { settings: settingsFromContext(app.node) }) };
}

/** A template's resources, as far as reading the state machine's definition needs. */
export interface TemplateResources {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** The logical id in a template's `{ Fn::GetAtt: [<logical id>, Arn] }` (undefined for any other value). */
const getAttArn = (part: unknown): string | undefined => {
  const att = (part as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
  return Array.isArray(att) && att.length === 2 && att[1] === 'Arn' && typeof att[0] === 'string' ? att[0] : undefined;
};

/**
 * The fan-out state machine's ASL definition as the template has it, with `functionArn` in place
 * of the function's ARN: the only token in it (any other one fails, naming it).
 */
export function fanoutDefinitionOf(template: TemplateResources, functionArn: string): Record<string, unknown> {
  const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1)
    throw new Error(`expected one AWS::StepFunctions::StateMachine in the template, found ${machines.length}`);
  const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  const definition = machines[0].Properties?.DefinitionString as string | { 'Fn::Join': [string, unknown[]] };
  const [separator, parts] = typeof definition === 'string' ? ['', [definition]] : definition['Fn::Join'];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const id = getAttArn(part);
      if (id === undefined || !functions.some(([fnId]) => fnId === id))
        throw new Error(
          `the state machine's definition holds a token other than a function's ARN: ${JSON.stringify(part)}`,
        );
      return functionArn;
    })
    .join(separator);
  return JSON.parse(text) as Record<string, unknown>;
}

/** The function's ARN in a definition run locally: any will do, the emulator's task handlers call the handler in process. */
export const LOCAL_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:Tierdrift-Generator';

/** The fan-out definition of the stack synthesized here, and what bounds each of its tasks: the function's timeout. */
export function localFanout(context: Record<string, unknown> = {}): {
  definition: Record<string, unknown>;
  taskTimeoutSeconds: number;
} {
  const { app, stack } = synthesizeStack(context);
  const template = app.synth().getStackArtifact(stack.artifactId).template as TemplateResources;
  return {
    definition: fanoutDefinitionOf(template, LOCAL_FUNCTION_ARN),
    taskTimeoutSeconds: FUNCTION_TIMEOUT.toSeconds(),
  };
}
