/**
 * Another process on the same library, for the ownership tests. It prints {"ready":true}, waits for
 * a line on stdin (so several children can act at the same moment), then:
 *   open DB            opens the studio, prints what it found, closes
 *   resume DB RUN      opens the studio, resumes the run; if it got it, trains it to the end
 * and prints one JSON line with the outcome.
 */
import { createInterface } from 'node:readline';
import { openStudio } from '../../composition.js';
import { ServiceError } from '../errors.js';

const [mode, db, run] = process.argv.slice(2);
const print = (value: unknown) => process.stdout.write(JSON.stringify(value) + '\n');

print({ ready: true });
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close();

try {
  const service = await openStudio(db!, { ownerLabel: `studio-child ${mode}` });
  try {
    if (mode === 'open') {
      print({ ok: true, datasets: service.datasets.list().map((d) => d.name), interrupted: service.startup.interrupted, version: service.store.schemaVersion });
    } else {
      const id = Number(run);
      let resumed = false;
      try {
        service.runs.resume(id);
        resumed = true;
      } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
        print({ ok: true, resumed: false, code: e.code, message: e.message });
      }
      if (resumed) print({ ok: true, resumed: true, status: (await service.runs.waitFor(id)).status });
    }
  } finally {
    await service.close();
  }
} catch (e) {
  print({ ok: false, message: (e as Error).message });
}
