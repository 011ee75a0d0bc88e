import { readFileSync } from 'node:fs';
import { Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { deadLetterQueue } from './generator-function.js';
import { PROJECT_ROOT } from './project-root.js';
import type { TierdriftSettings } from './settings.js';
import { logicalIdOf } from './stack-part.js';

export const NIGHTLY_PAYLOAD_FILE = `${PROJECT_ROOT}events/schedule-nightly.json`;

export interface NightlyScheduleProps {
  settings: Pick<TierdriftSettings, 'nightlyCron' | 'nightlyTimeZone' | 'nightlyEnabled'>;
  fn: lambda.Function;
}

/**
 * The EventBridge Scheduler schedule that invokes the function with events/schedule-nightly.json,
 * its role and its dead-letter queue (see infra/stack-part.ts for the scope).
 */
export class NightlySchedule {
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, props: NightlyScheduleProps) {
    const { settings } = props;
    const stack = Stack.of(scope);
    this.deadLetterQueue = deadLetterQueue(scope, 'ScheduleDeadLetters');
    const payload = nightlySchedulePayload(readNightlyPayload());
    // Assumable only by EventBridge Scheduler, for schedules of this account's default group.
    const schedulerRole = new iam.Role(scope, 'SchedulerRole', {
      description: 'EventBridge Scheduler: invoke the tierdrift function, dead-letter to its queue',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({
              service: 'scheduler',
              resource: 'schedule-group',
              resourceName: 'default',
            }),
          },
        },
      }),
    });
    this.schedule = new scheduler.Schedule(scope, 'Nightly', {
      description: 'tierdrift nightly fixtures (events/schedule-nightly.json)',
      schedule: scheduler.ScheduleExpression.expression(settings.nightlyCron, TimeZone.of(settings.nightlyTimeZone)),
      enabled: settings.nightlyEnabled,
      target: new targets.LambdaInvoke(props.fn, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject(payload),
        // Scheduler retries a delivery the Lambda service refuses (throttling, reserved
        // concurrency exhausted); failures inside the function are Lambda's async retries.
        retryAttempts: 3,
        maxEventAge: Duration.hours(2),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });

    Validations.of(schedulerRole.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.fn)}.Arn>:*]`,
      reason:
        "Written by CDK's LambdaInvoke scheduler target (grantInvoke): lambda:InvokeFunction on this one function " +
        'and its qualified ARNs (versions/aliases) only; the wildcard cannot reach any other function. The role is ' +
        'assumable only by EventBridge Scheduler for schedules of this account.',
    });
  }
}

/**
 * The payload the schedule sends: the events/ file, except that `scheduledTime` (fixed in the
 * file, so tests are deterministic) becomes the scheduler's `<aws.scheduler.scheduled-time>`
 * attribute. Otherwise every night would reuse the file's date, and `seedFromDate` fixtures
 * would never roll.
 */
export function nightlySchedulePayload(file: unknown): Record<string, unknown> {
  return { ...(file as Record<string, unknown>), scheduledTime: scheduler.ContextAttribute.scheduledTime };
}

function readNightlyPayload(): unknown {
  let text: string;
  try {
    text = readFileSync(NIGHTLY_PAYLOAD_FILE, 'utf8');
  } catch (error) {
    throw new Error(`the nightly schedule payload ${NIGHTLY_PAYLOAD_FILE} is missing: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const payload = JSON.parse(text) as { fixtures?: unknown };
  if (!Array.isArray(payload.fixtures) || payload.fixtures.length === 0) {
    throw new Error(`${NIGHTLY_PAYLOAD_FILE}: expected {"fixtures":[...]} with at least one fixture`);
  }
  return payload;
}
