/** The shape of a `redis-actors` subcommand. */
import type { ParseArgsConfig } from 'node:util';

/** Options every subcommand accepts. */
export interface GlobalOptions {
  url: string | undefined;
  namespace: string | undefined;
}

export interface ParsedCommand {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Usage line and details for `redis-actors <command> --help`. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Runs the command; resolves with the exit code. */
  run(command: ParsedCommand, global: GlobalOptions): Promise<number>;
}
