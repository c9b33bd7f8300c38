/**
 * The machine a benchmark runs on, measured rather than assumed: these machines are shared, and a
 * contender that shares its cores with another process reports the other process's load, not its
 * own speed (PyTorch's 2-thread OpenMP collapses to a third of its speed when a core is taken).
 *
 *   machineCpu()      CPU-seconds the whole machine has been busy (all cores), from /proc/stat
 *   waitForIdle()     samples the machine until almost nothing else runs, or gives up and says so
 *   runMeasured()     runs one contender under /usr/bin/time: its own CPU-seconds (children too),
 *                     the CPU-seconds everything else used meanwhile, the load before and after
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

export const CORES = cpus().length;

/** PyTorch's best settings on this machine (its threads are set by each script): OpenBLAS not
 *  threading under PyTorch's own threads, and glibc's malloc not returning big blocks to the system
 *  after every step — with glibc's defaults PyTorch trained the bigger net at half the speed. */
export const TORCH_TUNED_ENV = { OPENBLAS_NUM_THREADS: '1', MALLOC_MMAP_THRESHOLD_: '1073741824', MALLOC_TRIM_THRESHOLD_: '4294967296' };
const TICKS_PER_SECOND = 100;

/** Busy and total CPU-seconds of the whole machine since boot, summed over cores. */
export function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((s, v) => s + v, 0);
  const idle = fields[3]! + (fields[4] ?? 0); // idle + iowait
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}

export interface IdleWait {
  idle: boolean;
  /** Cores' worth of CPU the rest of the machine used in the last sample (0.05 = 5 % of one core). */
  busyCores: number;
  waitedSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the machine used at most `maxBusyCores` over a `sampleSeconds` window (this process
 * is asleep meanwhile, so what is busy is someone else), for at most `timeoutSeconds`.
 */
export async function waitForIdle({ maxBusyCores = 0.05, sampleSeconds = 2, timeoutSeconds = 120 } = {}): Promise<IdleWait> {
  const started = Date.now();
  let busyCores = Infinity;
  for (;;) {
    const a = machineCpu();
    await sleep(sampleSeconds * 1000);
    const b = machineCpu();
    busyCores = (b.busy - a.busy) / sampleSeconds;
    const waitedSeconds = (Date.now() - started) / 1000;
    if (busyCores <= maxBusyCores) return { idle: true, busyCores, waitedSeconds };
    if (waitedSeconds >= timeoutSeconds) return { idle: false, busyCores, waitedSeconds };
  }
}

export interface Measured {
  stdout: string;
  stderr: string;
  /** The contender's own user + system CPU-seconds, its threads and children included. */
  cpuSeconds: number;
  /** CPU-seconds the rest of the machine used while the contender ran. */
  foreignCpuSeconds: number;
  wallSeconds: number;
  loadBefore: number;
  loadAfter: number;
}

const TIME_FORMAT = 'BENCHTIME %U %S %e';

function parseTime(stderr: string): { cpu: number; wall: number } | null {
  const m = /BENCHTIME ([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  return m ? { cpu: Number(m[1]) + Number(m[2]), wall: Number(m[3]) } : null;
}

function finish(cmd: string, args: string[], status: number | null, stdout: string, stderr: string, before: { busy: number }, loadBefore: number): Measured {
  const after = machineCpu();
  const t = parseTime(stderr);
  if (status !== 0 || !t) throw new Error(`${cmd} ${args.join(' ')} failed (${status}):\n${stderr.slice(-3000)}`);
  return {
    stdout, stderr: stderr.replace(/BENCHTIME[^\n]*\s*$/, ''), cpuSeconds: t.cpu,
    foreignCpuSeconds: Math.max(0, after.busy - before.busy - t.cpu), wallSeconds: t.wall, loadBefore, loadAfter: loadavg()[0]!,
  };
}

export interface RunOptions { env?: Record<string, string>; cwd?: string }

/** Runs `cmd args` to its end and measures it (see Measured). Rejects on a non-zero exit. */
export function runMeasured(cmd: string, args: string[], options: RunOptions = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const loadBefore = loadavg()[0]!;
    const before = machineCpu();
    const child = spawn('/usr/bin/time', ['-f', TIME_FORMAT, cmd, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      try { resolve(finish(cmd, args, code, stdout, stderr, before, loadBefore)); } catch (e) { reject(e); }
    });
  });
}

/** runMeasured for scripts that run one thing at a time and need nothing else meanwhile. */
export function runMeasuredSync(cmd: string, args: string[], options: RunOptions = {}): Measured {
  const loadBefore = loadavg()[0]!;
  const before = machineCpu();
  const r = spawnSync('/usr/bin/time', ['-f', TIME_FORMAT, cmd, ...args], { cwd: options.cwd, encoding: 'utf8', env: { ...process.env, ...options.env }, maxBuffer: 1 << 30 });
  return finish(cmd, args, r.status, r.stdout, r.stderr, before, loadBefore);
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
