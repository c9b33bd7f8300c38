/**
 * The cnn-studio command line: a thin transport over the Service, in this process. Exit codes:
 * 0 ok, 2 bad usage or input (every dataset import error included), 1 failure. With --json every
 * line of stdout is one JSON object: progress events as they come, then {"type":"result", ...}.
 * The service (SQLite, sharp, workers) loads only once a command needs it, so --help is instant.
 */
import { dirname, resolve } from 'node:path';
import type { ErrorCode } from '../contract/index.js';
import { describeStorageFailure } from '../db/failure.js';
import { ServiceError } from '../service/errors.js';
import { defaultDatabasePath } from '../service/paths.js';
import type { StudioOptions } from '../composition.js';
import { hyperparameterUsage, parseArgs, str, UsageError, type Parsed } from './args.js';
import { CLI_COMMANDS, type Ctx } from './commands.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Progress bars redraw in place only on a terminal. */
  isTTY: boolean;
  /** Called with a function that pauses the run in progress (the entry wires it to SIGINT). */
  onInterrupt?: (handler: (() => Promise<void>) | null) => void;
  serviceOptions?: StudioOptions;
}

export function usage(): string {
  const commands = Object.entries(CLI_COMMANDS).map(([name, c]) => `  ${name}${c.usage ? ' ' + c.usage : ''}`).join('\n');
  return `usage: cnn-studio [--db FILE] [--json] <command> [options]

commands:
${commands}

hyperparameter flags (train, fork):
${hyperparameterUsage('  ')}

--db FILE   the database (default ${defaultDatabasePath()}, shared with the desktop app)
--json      one JSON object per line: progress events, then the result
Ctrl-C during train/resume pauses the run (snapshot); 'cnn-studio resume <run>' continues it.`;
}

const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set(['bad_request', 'invalid_spec', 'invalid_hyperparameters', 'import_failed', 'not_found']);

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    io.stderr(`cnn-studio: ${(e as Error).message}\n${usage()}\n`);
    return 2;
  }
  const json = parsed.flags.has('json');
  const [command, ...args] = parsed.positional;
  if (parsed.flags.has('help') || !command) {
    (command || parsed.flags.has('help') ? io.stdout : io.stderr)(usage() + '\n');
    return parsed.flags.has('help') ? 0 : 2;
  }
  const out = (value: unknown) => io.stdout(JSON.stringify(value) + '\n');
  const fail = (code: number, error: { code: string; message: string; detail?: unknown }) => {
    if (json) out({ type: 'result', ok: false, error });
    else io.stderr(`cnn-studio ${command}: ${error.message}\n`);
    return code;
  };
  const spec = Object.hasOwn(CLI_COMMANDS, command) ? CLI_COMMANDS[command]! : undefined;
  if (!spec) return fail(2, { code: 'bad_request', message: `unknown command ${JSON.stringify(command)}; see cnn-studio --help` });
  for (const name of parsed.flags.keys()) {
    if (name !== 'db' && name !== 'json' && !spec.flags.includes(name)) return fail(2, { code: 'bad_request', message: `unknown option --${name} for ${command}` });
  }

  let service: Ctx['service'] | null = null;
  try {
    const dbPath = resolve(str(parsed, 'db') ?? defaultDatabasePath());
    if (spec.runOnFile) {
      const result = await spec.runOnFile({ dbPath, io, json, out, parsed, args });
      if (json) out({ type: 'result', ok: result.code === 0, value: result.value, ...(result.error ? { error: result.error } : {}) });
      return result.code;
    }
    const { openStudio } = await import('../composition.js');
    service = await openStudio(dbPath, { ownerLabel: `cnn-studio ${command}`, ...io.serviceOptions }, dirname(dbPath));
    if (service.startup.sampleError) io.stderr(`cnn-studio: warning: the bundled sample dataset could not be imported (${service.startup.sampleError})\n`);
    const result = await spec.run!({ service, io, json, out, parsed, args });
    if (json) out({ type: 'result', ok: result.code === 0, value: result.value, ...(result.error ? { error: result.error } : {}) });
    else if (result.error) io.stderr(`cnn-studio ${command}: ${result.error.message}\n`);
    return result.code;
  } catch (e) {
    if (e instanceof UsageError) return fail(2, { code: 'bad_request', message: e.message });
    if (e instanceof ServiceError) return fail(INPUT_ERRORS.has(e.code) ? 2 : 1, e.toData());
    const words = describeStorageFailure(e, 'try again');
    if (words) return fail(1, { code: 'storage', message: words });
    return fail(1, { code: 'internal', message: (e as Error)?.message ?? String(e) });
  } finally {
    io.onInterrupt?.(null);
    await service?.close();
  }
}
