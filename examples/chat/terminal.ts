/**
 * The chat's terminal: lines in from stdin, lines out to stdout. At an
 * interactive terminal it keeps a `> ` prompt under the incoming traffic, so
 * what the user is typing is redrawn rather than broken up.
 */
import readline from 'node:readline';

export interface LineHandlers {
  /** A line the user typed; lines are handled one at a time, in order. */
  line(text: string): Promise<void>;
  /** Standard input ended (after the last line was handled). */
  end(): void;
  /** Ctrl-C at an interactive terminal (raw mode turns it into input, not a signal). */
  interrupt(): void;
}

export class Terminal {
  private readonly interactive = process.stdin.isTTY && process.stdout.isTTY;
  private reader: readline.Interface | undefined;
  private handled: Promise<void> = Promise.resolve();

  /** Prints one line, above the prompt at an interactive terminal. */
  print(line: string): void {
    if (this.reader === undefined || !this.interactive) {
      process.stdout.write(`${line}\n`);
      return;
    }
    readline.cursorTo(process.stdout, 0);
    readline.clearLine(process.stdout, 0);
    process.stdout.write(`${line}\n`);
    this.reader.prompt(true);
  }

  /** Starts reading standard input. */
  start(handlers: LineHandlers): void {
    const reader = readline.createInterface({
      input: process.stdin,
      output: this.interactive ? process.stdout : undefined,
      terminal: this.interactive,
      prompt: '> ',
      crlfDelay: Infinity,
    });
    this.reader = reader;
    reader.on('line', (text) => {
      this.handled = this.handled
        .then(() => handlers.line(text))
        .catch((error: unknown) => {
          this.print(`(${String(error)})`);
        })
        .then(() => {
          // Readline does not show the prompt again by itself after Enter.
          if (this.interactive) this.reader?.prompt(true);
        });
    });
    reader.on('close', () => {
      this.reader = undefined;
      this.handled = this.handled.then(() => {
        handlers.end();
      });
    });
    reader.on('SIGINT', () => {
      handlers.interrupt();
    });
    if (this.interactive) reader.prompt();
  }

  /** Stops reading, so that standard input no longer keeps the process alive. */
  stop(): void {
    if (this.interactive && this.reader !== undefined) {
      // Clear the prompt and whatever was typed but not sent.
      readline.cursorTo(process.stdout, 0);
      readline.clearLine(process.stdout, 0);
    }
    this.reader?.close();
    this.reader = undefined;
    process.stdin.destroy();
  }
}
