import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { synthesizeStack } from '../../infra/synthesize.js';
import type { TierdriftStack } from '../../infra/tierdrift-stack.js';

export { CDK_JSON } from '../../infra/synthesize.js';

export interface Synthesized {
  app: App;
  stack: TierdriftStack;
  template: Template;
  /** The raw template (resources by logical id). */
  json: {
    Resources: Record<
      string,
      {
        Type: string;
        Properties?: any;
        DependsOn?: string[];
        DeletionPolicy?: string;
        UpdateReplacePolicy?: string;
        Metadata?: any;
      }
    >;
    Outputs: Record<string, any>;
  };
}

/** The stack as `infra/app.ts` builds it (infra/synthesize.ts: no bundling, no CloudFormation validation), and its template. */
export function synthStack(context: Record<string, unknown> = {}): Synthesized {
  const { app, stack } = synthesizeStack(context);
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
export function onlyOfType(
  json: Synthesized['json'],
  type: string,
): { id: string; resource: Synthesized['json']['Resources'][string] } {
  const ids = logicalIdsOfType(json, type);
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}: ${ids.join(', ')}`);
  return { id: ids[0], resource: json.Resources[ids[0]] };
}

export const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
export const ref = (id: string) => ({ Ref: id });

/** `arn:<partition>:states:<region>:<account>:<resource>` as CloudFormation joins it. */
export const statesArn = (resource: string) => ({
  'Fn::Join': [
    '',
    ['arn:', ref('AWS::Partition'), ':states:', ref('AWS::Region'), ':', ref('AWS::AccountId'), `:${resource}`],
  ],
});

/** The logical id of an L2 construct's CloudFormation resource. */
export function idOf(stack: TierdriftStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;
}
