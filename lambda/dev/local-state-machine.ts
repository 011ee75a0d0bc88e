import { ExecutionTimeoutError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { JobReport } from '../handler/background-job.js';
import type { ExecutionStatus, FanoutExecutions } from '../handler/fanout-executions.js';
import type { FanoutPlanJob } from '../fanout/fanout-payloads.js';

/** Invokes the function with one payload and returns its result (in tests and `npm run dev`: the handler). */
export type Invoke = (payload: unknown) => Promise<unknown>;

export interface LocalStateMachineOptions {
  /** The fan-out state machine's ASL definition as synthesized (infra/synthesize.ts, fanoutDefinitionOf). */
  definition: Record<string, unknown>;
  /** Runs every Task state: each invokes the function. */
  invoke: Invoke;
  /**
   * What bounds a task: in AWS a Task without TimeoutSeconds waits for the invocation, which the
   * function's timeout ends; the emulator would stop it after 60 s.
   */
  taskTimeoutSeconds: number;
  /** Wait before a retry, in ms, instead of the definition's intervals (tests: 0). */
  retryDelayMs?: number;
  /** Told of each execution that ends other than SUCCEEDED. */
  onFailure?: (name: string, error: unknown) => void;
}

type StateDefinition = {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  ItemProcessor?: StatesOf;
  Iterator?: StatesOf;
  Branches?: StatesOf[];
};
type StatesOf = { States: Record<string, StateDefinition> };

/** Every Task state of a definition, nested ones (a Map's item processor) included. */
function tasksOf(definition: StatesOf): Array<[string, StateDefinition]> {
  return Object.entries(definition.States).flatMap(([name, state]): Array<[string, StateDefinition]> => [
    ...(state.Type === 'Task' ? [[name, state] as [string, StateDefinition]] : []),
    ...[state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].flatMap((inner) =>
      inner ? tasksOf(inner) : [],
    ),
  ]);
}

/** A Lambda task's resource: the function's ARN, or the optimised integration. */
const invokesLambda = (resource = '') =>
  /^arn:aws[a-z-]*:lambda:/.test(resource) || /^arn:aws[a-z-]*:states:::lambda:invoke/.test(resource);

/** As Step Functions reports a function's error: its type as the error, the error as JSON as the cause. */
function asLambdaError(failure: unknown): Error {
  const error = failure instanceof Error ? failure : new Error(String(failure));
  const reported = new Error(JSON.stringify({ errorType: error.name, errorMessage: error.message }));
  reported.name = error.name;
  return reported;
}

/**
 * The fan-out state machine's synthesized definition run by the aws-local-stepfunctions emulator in
 * this process (its Map states, Retry and Catch), each Task state invoking the function through
 * `invoke`, with payloads and results passed as JSON, as Lambda passes them. Executions by name,
 * like Step Functions': a name is taken for good, an execution runs after the request that
 * started it has been answered, and ends SUCCEEDED, FAILED or TIMED_OUT.
 * What the emulator does not do (Distributed Map's child executions, IAM, …): docs/scale.md.
 */
export class LocalStateMachine implements FanoutExecutions {
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, (input: unknown) => Promise<never>>;
  private readonly retryIntervals: Record<string, number>;
  private readonly executions = new Map<string, { status: ExecutionStatus; done: Promise<void> }>();

  constructor(private readonly options: LocalStateMachineOptions) {
    const definition = structuredClone(options.definition) as unknown as StatesOf;
    const tasks = tasksOf(definition);
    for (const [name, task] of tasks) {
      if (!invokesLambda(task.Resource))
        throw new Error(
          `local state machine: task ${name} calls ${task.Resource}; only tasks that invoke the function run here`,
        );
      task.TimeoutSeconds ??= options.taskTimeoutSeconds;
    }
    this.machine = new StateMachine(definition as unknown as StateMachineDefinition);
    const invoke = async (input: unknown) => {
      try {
        return JSON.parse(JSON.stringify((await options.invoke(input)) ?? null)) as never;
      } catch (failure) {
        throw asLambdaError(failure);
      }
    };
    this.handlers = Object.fromEntries(tasks.map(([name]) => [name, invoke]));
    const delay = options.retryDelayMs;
    this.retryIntervals = delay === undefined ? {} : Object.fromEntries(tasks.map(([name]) => [name, delay]));
  }

  /** Runs one execution to its end: the output (the commit's report), or the execution's error. */
  async run(input: FanoutPlanJob): Promise<JobReport> {
    const execution = this.machine.run(JSON.parse(JSON.stringify(input)) as never, {
      overrides: { taskResourceLocalHandlers: this.handlers, retryIntervalOverrides: this.retryIntervals },
    });
    return (await execution.result) as unknown as JobReport;
  }

  start(name: string, input: FanoutPlanJob): Promise<boolean> {
    if (this.executions.has(name)) return Promise.resolve(false);
    const execution: { status: ExecutionStatus; done: Promise<void> } = { status: 'RUNNING', done: Promise.resolve() };
    execution.done = new Promise((resolve) => setImmediate(resolve))
      .then(() => this.run(input))
      .then(
        () => void (execution.status = 'SUCCEEDED'),
        (error: unknown) => {
          execution.status = error instanceof ExecutionTimeoutError ? 'TIMED_OUT' : 'FAILED';
          this.options.onFailure?.(name, error);
        },
      );
    this.executions.set(name, execution);
    return Promise.resolve(true);
  }

  status(name: string): Promise<ExecutionStatus> {
    const execution = this.executions.get(name);
    if (!execution) return Promise.reject(new Error(`ExecutionDoesNotExist: ${name}`));
    return Promise.resolve(execution.status);
  }

  /** The executions started so far, by name, with their status. */
  list(): Array<{ name: string; status: ExecutionStatus }> {
    return [...this.executions].map(([name, e]) => ({ name, status: e.status }));
  }

  /** Resolves once every execution started so far has ended. */
  async settled(): Promise<void> {
    await Promise.all([...this.executions.values()].map((e) => e.done));
  }
}
