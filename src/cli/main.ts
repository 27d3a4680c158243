#!/usr/bin/env node
/**
 * `redis-actors`: the command line. `redis-actors --help` lists the commands;
 * `redis-actors <command> --help` explains one.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { TLS_ENV } from '../internal.js';
import { aclCommand } from './acl-command.js';
import { askCommand, tellCommand } from './ask-command.js';
import { brokerCommand } from './broker-command.js';
import { dashboardCommand } from './dashboard-command.js';
import { deadCommand } from './dead-command.js';
import type { Command, GlobalOptions } from './command.js';
import { lsCommand } from './ls-command.js';
import { monitorCommand } from './monitor-command.js';
import { spawnCommand } from './spawn-command.js';
import { EXIT, UsageError, exitCodeFor } from './usage.js';

const COMMANDS: readonly Command[] = [
  brokerCommand,
  aclCommand,
  lsCommand,
  askCommand,
  tellCommand,
  monitorCommand,
  dashboardCommand,
  spawnCommand,
  deadCommand,
];

const GLOBAL_HELP = `Global options:
  --url <url>          Redis URL (default: REDIS_URL, else the running private broker)
  --namespace <name>   namespace of channels and keys (default: REDIS_ACTORS_NAMESPACE, else "ra")
  --tls-ca <file>      CA certificate (PEM) for rediss:// URLs (default: REDIS_ACTORS_TLS_CA)
  --tls-cert <file>    client certificate (PEM) (default: REDIS_ACTORS_TLS_CERT)
  --tls-key <file>     client key (PEM) (default: REDIS_ACTORS_TLS_KEY)
  -h, --help           help for redis-actors or for a command
  --version            print the version
Exit codes: 0 ok, 1 failure, 2 bad arguments, 3 timeout, 4 no recipient,
5 the actor answered with an error, 6 no Redis reachable, 7 the Redis user lacks a permission.`;

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'usage: redis-actors <command> [arguments] [options]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    GLOBAL_HELP,
  ].join('\n');
}

function version(): string {
  const packageJson = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${mainHelp()}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined)
    throw new UsageError(`unknown command "${name}". Run redis-actors --help.`);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      ...command.options,
      url: { type: 'string' },
      namespace: { type: 'string' },
      'tls-ca': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${command.help}\n\n${GLOBAL_HELP}\n`);
    return EXIT.ok;
  }
  // Through the environment: every connection of this process, and every child a
  // supervisor started from here spawns, uses them.
  for (const [flag, variable] of [
    ['tls-ca', TLS_ENV.ca],
    ['tls-cert', TLS_ENV.cert],
    ['tls-key', TLS_ENV.key],
  ] as const) {
    const value = values[flag];
    if (typeof value === 'string') process.env[variable] = value;
  }
  const global: GlobalOptions = {
    url: values.url,
    namespace: values.namespace,
  };
  return command.run({ positionals, values }, global);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = exitCodeFor(error);
    process.stderr.write(`redis-actors: ${(error as Error).message}\n`);
    if (code === EXIT.usage && !(error instanceof UsageError)) {
      process.stderr.write('Run redis-actors --help for usage.\n');
    }
    process.exitCode = code;
  },
);
