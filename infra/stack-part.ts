import { type CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

// The stack's parts (dataset-buckets.ts, generator-function.ts, fanout-state-machine.ts,
// dataset-api.ts, nightly-schedule.ts, athena-catalog.ts) each build their resources and acknowledge
// their own cdk-nag findings. The parts other than the fan-out and the Athena catalog (constructs
// with a level of their own) build into the stack's own scope, with the ids the
// resources had before the split, instead of adding a level to the construct tree: a new level
// would change every construct path and logical id below it, and CloudFormation would replace the
// deployed resources (the retained buckets would be orphaned and new, empty ones made).

/** The logical id of a construct's CloudFormation resource, as cdk-nag names it in its findings. */
export function logicalIdOf(construct: IConstruct): string {
  return Stack.of(construct).resolve((construct.node.defaultChild as CfnElement).logicalId) as string;
}
