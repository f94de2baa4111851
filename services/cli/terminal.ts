import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { CliIo } from './io';

/** Asks on the terminal with echo off (the typed password never shows). */
function promptSecret(question: string): Promise<string> {
  process.stderr.write(question);
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve, reject) => {
    rl.once('line', (line) => {
      process.stderr.write('\n');
      rl.close();
      resolve(line);
    });
    rl.once('SIGINT', () => {
      rl.close();
      reject(new Error('interrupted'));
    });
  });
}

/** The real process: the only place the CLI reads process.env and the standard streams. */
export function processIo(): CliIo {
  return {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    promptSecret: process.stdin.isTTY ? promptSecret : undefined,
    onInterrupt(handler) {
      const listener = (): void => {
        handler();
        process.exit(130);
      };
      process.once('SIGINT', listener);
      return () => process.off('SIGINT', listener);
    },
  };
}
