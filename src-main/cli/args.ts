/**
 * The command line's words: parsing argv into positionals and flags, reading typed flag values, and
 * the hyperparameter flags — one per field of the hyperparameter table (contract/hyperparameters.ts),
 * so a knob added there is a flag here without another line.
 */
import { HYPERPARAMETER_FIELDS, type HyperparameterField, type HyperparameterInput } from '../contract/index.js';

export class UsageError extends Error {}

export interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

const HYPERPARAMETER_BOOLEANS = HYPERPARAMETER_FIELDS.filter((f) => f.kind === 'boolean').map((f) => f.flag);
const BOOLEAN_FLAGS = new Set(['json', 'help', 'repair', ...HYPERPARAMETER_BOOLEANS]);

export function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h') flags.set('help', true);
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) flags.set(name, a.slice(eq + 1));
      else if (BOOLEAN_FLAGS.has(name)) flags.set(name, true);
      else {
        const value = argv[i + 1];
        if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
        flags.set(name, value);
        i++;
      }
    } else positional.push(a);
  }
  return { positional, flags };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

export function numberFlag(p: Parsed, name: string, integer: boolean): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`);
  return n;
}

export function choiceFlag<T extends string>(p: Parsed, name: string, choices: readonly T[]): T | undefined {
  const v = str(p, name);
  if (v !== undefined && !choices.includes(v as T)) throw new UsageError(`--${name} must be ${choices.join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${JSON.stringify(v)}`);
  return v as T | undefined;
}

/** The flags of every hyperparameter, for `train` and `fork`. */
export const HYPERPARAMETER_FLAGS: readonly string[] = HYPERPARAMETER_FIELDS.map((f) => f.flag);

function flagValue(p: Parsed, f: HyperparameterField): unknown {
  if (f.kind === 'boolean') {
    const v = p.flags.get(f.flag);
    if (v === undefined) return undefined;
    if (v === true || v === 'true') return true;
    if (v === 'false') return false;
    throw new UsageError(`--${f.flag} takes no value (or =true / =false), got ${JSON.stringify(v)}`);
  }
  if (f.kind === 'choice') return choiceFlag(p, f.flag, f.choices!);
  return numberFlag(p, f.flag, f.kind === 'integer');
}

/** The hyperparameters the flags set (only those given); ranges are the service's to check. */
export function hyperparametersFrom(p: Parsed): HyperparameterInput {
  const out: Record<string, unknown> = {};
  for (const f of HYPERPARAMETER_FIELDS) {
    const value = flagValue(p, f);
    if (value === undefined) continue;
    const [group, key] = f.path.includes('.') ? f.path.split('.') : [null, f.path];
    if (group) ((out[group] ??= {}) as Record<string, unknown>)[key!] = value;
    else out[key!] = value;
  }
  return out as HyperparameterInput;
}

/** The usage lines of the hyperparameter flags, from the table. */
export function hyperparameterUsage(indent: string): string {
  return HYPERPARAMETER_FIELDS.map((f) => {
    const arg = f.kind === 'boolean' ? '' : f.kind === 'choice' ? ` ${f.choices!.join('|')}` : f.kind === 'integer' ? ' N' : ' X';
    const dflt = f.defaultFor ? '' : f.default === null ? '' : ` (default ${f.default})`;
    return `${indent}--${f.flag}${arg}`.padEnd(indent.length + 34) + `${f.help}${dflt}`;
  }).join('\n');
}
