/** The cnn-studio process: wires the CLI to stdout/stderr, SIGINT (pause the run) and the exit code. */
import { runCli } from './index.js';

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
  onInterrupt: (handler) => (onInterrupt = handler),
});
// Flush stdout before leaving: a pipe may still hold the last lines.
process.stdout.write('', () => process.exit(code));
