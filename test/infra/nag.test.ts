import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthStack, type Synthesized } from './synth-stack.js';

let s: Synthesized;
beforeAll(() => {
  s = synthStack();
});

/** Every acknowledgement in the tree: construct path (below the stack), rule id, reason. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path.replace(/^Tierdrift\//, ''),
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the stack: no errors, no warnings', () => {
    const report = new AwsSolutionsChecks(s.app, { verbose: true }).validateScope(s.stack);
    expect(
      report.violations.map(
        (v) => `${v.severity} ${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(' ')}`,
      ),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges exactly the reviewed findings, each on its own construct, each with a reason', () => {
    const acks = acknowledgements(s.stack);
    const methods = [
      'datasets/POST',
      'datasets/GET',
      'datasets/{datasetId}/GET',
      'datasets/{datasetId}/users/{userId}/tiers/GET',
      'datasets/{datasetId}/evaluations/POST',
    ];
    expect(acks.map((a) => `${a.path} ${a.id}`).sort()).toEqual(
      [
        'FunctionRole/DefaultPolicy AwsSolutions-IAM5[Resource::<Datasets0030EE04.Arn>/tierdrift/*]',
        'FunctionRole/DefaultPolicy AwsSolutions-IAM5[Resource::<Datasets0030EE04.Arn>/tierdrift/*/_parts/*]',
        'StartFanout AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:Tierdrift-fanout:*]',
        'SchedulerRole/DefaultPolicy AwsSolutions-IAM5[Resource::<Generator170C31BE.Arn>:*]',
        'Generator AwsSolutions-L1',
        'Fanout/Resource/Role/DefaultPolicy AwsSolutions-IAM5[Resource::<Generator170C31BE.Arn>:*]',
        'Fanout/Resource/Role/DefaultPolicy AwsSolutions-IAM5[Resource::*]',
        ...[':*', '/*:*'].map(
          (tail) =>
            `Fanout/Resource/DistributedMapPolicy AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"Fanout533BF48F"}]}]}${tail}]`,
        ),
        'AsyncFailures AwsSolutions-SQS3',
        'ScheduleDeadLetters AwsSolutions-SQS3',
        'AccessLogs AwsSolutions-S1',
        'Athena/QueryPolicy AwsSolutions-IAM5[Resource::<Datasets0030EE04.Arn>/tierdrift/*]',
        'Athena/QueryPolicy AwsSolutions-IAM5[Resource::<AthenaResults4E169281.Arn>/results/*]',
        'Api/DeploymentStage.v1 AwsSolutions-APIG3',
        ...methods.map((m) => `Api/Default/${m} AwsSolutions-COG4`),
        'Api/CloudWatchRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      ].sort(),
    );
    for (const a of acks) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(100);
  });

  it('is live in this cdk-nag version: an unprotected bucket is reported', () => {
    const app = new App();
    const stack = new Stack(app, 'Probe');
    new s3.Bucket(stack, 'Open');
    const rules = new AwsSolutionsChecks(app).validateScope(stack).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });
});
