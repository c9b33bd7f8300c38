/** The cnn-studio process: wires the CLI to stdout/stderr, SIGINT (pause the run), questions and the exit code. */
import { createInterface } from 'node:readline/promises';
import { runCli } from './index.js';

/** A yes/no question on the terminal; only where there is a person to answer it. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

let onInterrupt: (() => Promise<void>) | null = null;
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts++;
  if (onInterrupt && interrupts === 1) void onInterrupt();
  else process.exit(130);
});

const code = await runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: !!process.stderr.isTTY,
  ...(process.stdin.isTTY ? { confirm } : {}),
  onInterrupt: (handler) => (onInterrupt = handler),
});
// Flush stdout before leaving: a pipe may still hold the last lines.
process.stdout.write('', () => process.exit(code));
