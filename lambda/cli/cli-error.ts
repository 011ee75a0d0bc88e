/** An error the CLI reports on one screen and turns into an exit code (2: bad input, 1: failed check). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
