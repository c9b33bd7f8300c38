/**
 * The schema, as numbered migrations. `PRAGMA user_version` holds how many have run; opening a
 * database runs the missing ones (see migrate). Append new migrations; never edit one that has shipped.
 */
import type Database from 'better-sqlite3';

export const MIGRATIONS: readonly string[] = [
  // 1: the first schema
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE datasets (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    source           TEXT NOT NULL,
    format           TEXT NOT NULL CHECK (format IN ('folder', 'idx', 'csv', 'archive')),
    height           INTEGER NOT NULL,
    width            INTEGER NOT NULL,
    channels         INTEGER NOT NULL,
    class_names      TEXT NOT NULL,            -- JSON string[]
    train_count      INTEGER NOT NULL,
    test_count       INTEGER NOT NULL,
    counts_per_class TEXT NOT NULL,            -- JSON {train: number[], test: number[]}
    content_hash     TEXT NOT NULL UNIQUE,
    cache_file       TEXT NOT NULL,            -- decoded tensors, content-addressed, next to the database
    lint             TEXT NOT NULL,            -- JSON lint report
    created_at       TEXT NOT NULL
  );

  CREATE TABLE runs (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    dataset_id         INTEGER NOT NULL REFERENCES datasets(id) ON DELETE RESTRICT,
    spec               TEXT NOT NULL,          -- JSON ModelSpec
    spec_hash          TEXT NOT NULL,
    total_params       INTEGER NOT NULL,
    hyperparameters    TEXT NOT NULL,          -- JSON Hyperparameters, defaults filled in
    seed               INTEGER NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'completed', 'stopped', 'failed', 'interrupted')),
    kernels_used       TEXT,
    engine_version     TEXT NOT NULL,
    parent_run_id      INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    parent_snapshot_id INTEGER REFERENCES snapshots(id) ON DELETE SET NULL,
    notes              TEXT NOT NULL DEFAULT '',
    tags               TEXT NOT NULL DEFAULT '[]', -- JSON string[]
    error              TEXT,
    stop_reason        TEXT,
    created_at         TEXT NOT NULL,
    started_at         TEXT,
    finished_at        TEXT,
    train_seconds      REAL NOT NULL DEFAULT 0,
    -- kept up to date with each epoch so listing runs needs no join
    epochs_done        INTEGER NOT NULL DEFAULT 0,
    best_epoch         INTEGER,
    last_val_accuracy  REAL,
    last_train_loss    REAL,
    test_accuracy      REAL
  );
  CREATE INDEX runs_by_dataset ON runs(dataset_id);
  CREATE INDEX runs_by_status ON runs(status);
  CREATE INDEX runs_by_parent ON runs(parent_run_id);

  CREATE TABLE epoch_metrics (
    run_id            INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch             INTEGER NOT NULL,
    step              INTEGER NOT NULL,
    train_loss        REAL NOT NULL,
    train_accuracy    REAL NOT NULL,
    val_loss          REAL,
    val_accuracy      REAL,
    learning_rate     REAL NOT NULL,
    images_per_second REAL NOT NULL,
    seconds           REAL NOT NULL,
    wall_time         REAL NOT NULL,
    PRIMARY KEY (run_id, epoch)
  ) WITHOUT ROWID;

  CREATE TABLE batch_metrics (
    run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step          INTEGER NOT NULL,
    epoch         INTEGER NOT NULL,
    batch         INTEGER NOT NULL,
    loss          REAL NOT NULL,
    accuracy      REAL NOT NULL,
    learning_rate REAL NOT NULL,
    wall_time     REAL NOT NULL,
    PRIMARY KEY (run_id, step)
  ) WITHOUT ROWID;

  CREATE TABLE snapshots (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch      INTEGER NOT NULL,              -- completed epochs at the time of the snapshot
    step       INTEGER NOT NULL,              -- optimizer steps taken
    kind       TEXT NOT NULL CHECK (kind IN ('epoch', 'pause', 'stop', 'final')),
    is_best    INTEGER NOT NULL DEFAULT 0,
    state      BLOB NOT NULL,                 -- Trainer.saveState() bytes
    created_at TEXT NOT NULL
  );
  CREATE INDEX snapshots_by_run ON snapshots(run_id, id);

  CREATE TABLE evaluations (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    dataset_id    INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    snapshot_id   INTEGER REFERENCES snapshots(id) ON DELETE SET NULL,
    split         TEXT NOT NULL CHECK (split IN ('test', 'validation', 'train')),
    accuracy      REAL NOT NULL,
    loss          REAL NOT NULL,
    count         INTEGER NOT NULL,
    per_class     TEXT NOT NULL,              -- JSON ClassMetrics[]
    confusion     TEXT NOT NULL,              -- JSON number[label][predicted]
    misclassified TEXT NOT NULL,              -- JSON {index, label, predicted, probabilities}[]
    created_at    TEXT NOT NULL
  );
  CREATE INDEX evaluations_by_run ON evaluations(run_id, id);
  `,

  // 2: runs have an owner (the process training or queueing them), and ids are never reused:
  // runs and datasets are rebuilt with AUTOINCREMENT (SQLite cannot add it to a table in place),
  // so a deleted run's id can never name a later run. Snapshot and evaluation ids belong to their
  // run (every lookup checks the run), so they keep their tables.
  `
  CREATE TABLE owners (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token      TEXT NOT NULL UNIQUE,           -- names the lock file <database>-owners/<token>.lock it holds
    pid        INTEGER NOT NULL,
    label      TEXT NOT NULL,                  -- what the process is: "cnn-studio train", "the web server", …
    started_at TEXT NOT NULL
  );

  CREATE TABLE datasets_v2 (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL UNIQUE,
    source           TEXT NOT NULL,
    format           TEXT NOT NULL CHECK (format IN ('folder', 'idx', 'csv', 'archive')),
    height           INTEGER NOT NULL,
    width            INTEGER NOT NULL,
    channels         INTEGER NOT NULL,
    class_names      TEXT NOT NULL,
    train_count      INTEGER NOT NULL,
    test_count       INTEGER NOT NULL,
    counts_per_class TEXT NOT NULL,
    content_hash     TEXT NOT NULL UNIQUE,
    cache_file       TEXT NOT NULL,
    lint             TEXT NOT NULL,
    created_at       TEXT NOT NULL
  );
  INSERT INTO datasets_v2 SELECT id, name, source, format, height, width, channels, class_names, train_count, test_count,
    counts_per_class, content_hash, cache_file, lint, created_at FROM datasets;
  DROP TABLE datasets;
  ALTER TABLE datasets_v2 RENAME TO datasets;

  CREATE TABLE runs_v2 (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT NOT NULL,
    dataset_id         INTEGER NOT NULL REFERENCES datasets(id) ON DELETE RESTRICT,
    spec               TEXT NOT NULL,
    spec_hash          TEXT NOT NULL,
    total_params       INTEGER NOT NULL,
    hyperparameters    TEXT NOT NULL,
    seed               INTEGER NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'completed', 'stopped', 'failed', 'interrupted')),
    kernels_used       TEXT,
    engine_version     TEXT NOT NULL,
    parent_run_id      INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    parent_snapshot_id INTEGER REFERENCES snapshots(id) ON DELETE SET NULL,
    notes              TEXT NOT NULL DEFAULT '',
    tags               TEXT NOT NULL DEFAULT '[]',
    error              TEXT,
    stop_reason        TEXT,
    created_at         TEXT NOT NULL,
    started_at         TEXT,
    finished_at        TEXT,
    train_seconds      REAL NOT NULL DEFAULT 0,
    epochs_done        INTEGER NOT NULL DEFAULT 0,
    best_epoch         INTEGER,
    last_val_accuracy  REAL,
    last_train_loss    REAL,
    test_accuracy      REAL,
    -- owners.token of the process that queued or trains the run; NULL when it is neither queued nor running
    owner              TEXT
  );
  INSERT INTO runs_v2 SELECT id, name, dataset_id, spec, spec_hash, total_params, hyperparameters, seed, status, kernels_used,
    engine_version, parent_run_id, parent_snapshot_id, notes, tags, error, stop_reason, created_at, started_at, finished_at,
    train_seconds, epochs_done, best_epoch, last_val_accuracy, last_train_loss, test_accuracy, NULL FROM runs;
  DROP TABLE runs;
  ALTER TABLE runs_v2 RENAME TO runs;
  CREATE INDEX runs_by_dataset ON runs(dataset_id);
  CREATE INDEX runs_by_status ON runs(status);
  CREATE INDEX runs_by_parent ON runs(parent_run_id);
  `,

  // 3: a library people tidy (notes and tags on datasets, how each was imported), forks that continue
  // their parent's numbering, the metric a best epoch was chosen by, snapshots within an epoch
  // ('interval', with the batch they stop before), every prediction of an evaluation, sweeps.
  // The snapshots table is rebuilt for its CHECK (SQLite cannot alter one): migrate() runs this with
  // foreign keys off and checks them before it commits.
  `
  ALTER TABLE datasets ADD COLUMN notes TEXT NOT NULL DEFAULT '';
  ALTER TABLE datasets ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE datasets ADD COLUMN import_options TEXT NOT NULL DEFAULT '{}'; -- JSON: what a re-import repeats

  CREATE TABLE sweeps (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    base_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('grid', 'random')),
    space       TEXT NOT NULL,                -- JSON SweepSpace
    max_runs    INTEGER NOT NULL,
    seed        INTEGER NOT NULL,
    parallel    INTEGER NOT NULL,
    created_at  TEXT NOT NULL
  );

  ALTER TABLE runs ADD COLUMN best_val_accuracy REAL;
  ALTER TABLE runs ADD COLUMN best_monitor TEXT;   -- the metric the best epoch is chosen by
  ALTER TABLE runs ADD COLUMN epoch_offset INTEGER NOT NULL DEFAULT 0; -- a fork's first epoch is offset + 1
  ALTER TABLE runs ADD COLUMN step_offset INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN sweep_id INTEGER REFERENCES sweeps(id) ON DELETE SET NULL;
  UPDATE runs SET best_val_accuracy = (SELECT MAX(val_accuracy) FROM epoch_metrics e WHERE e.run_id = runs.id);
  CREATE INDEX runs_by_sweep ON runs(sweep_id);

  CREATE TABLE snapshots_v2 (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch      INTEGER NOT NULL,              -- completed epochs at the time of the snapshot
    batch      INTEGER NOT NULL DEFAULT 0,    -- batches done of the next epoch (0 at an epoch end)
    step       INTEGER NOT NULL,              -- optimizer steps taken
    kind       TEXT NOT NULL CHECK (kind IN ('epoch', 'pause', 'stop', 'final', 'interval')),
    is_best    INTEGER NOT NULL DEFAULT 0,
    state      BLOB NOT NULL,                 -- Trainer.saveState() bytes
    created_at TEXT NOT NULL
  );
  INSERT INTO snapshots_v2 (id, run_id, epoch, batch, step, kind, is_best, state, created_at)
    SELECT id, run_id, epoch, 0, step, kind, is_best, state, created_at FROM snapshots;
  DROP TABLE snapshots;
  ALTER TABLE snapshots_v2 RENAME TO snapshots;
  CREATE INDEX snapshots_by_run ON snapshots(run_id, id);

  ALTER TABLE evaluations ADD COLUMN predictions BLOB; -- one byte per evaluated image: the predicted class
  `,

  // 4: training health, every healthEvery batches per layer (written with the batch rows, forgotten
  // past the snapshot a resume starts from as they are), and the step whose loss went non-finite
  `
  CREATE TABLE health_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step   INTEGER NOT NULL,              -- the run's step, as batch_metrics counts it
    epoch  INTEGER NOT NULL,              -- 1-based
    batch  INTEGER NOT NULL,              -- 1-based
    kind   TEXT NOT NULL CHECK (kind IN ('step', 'nonfinite')),
    data   TEXT NOT NULL,                 -- JSON: LayerHealth[] for 'step', the NonFiniteLayer (or null) for 'nonfinite'
    PRIMARY KEY (run_id, step, kind)
  ) WITHOUT ROWID;
  `,

  // 5: every evaluated image's three likeliest classes and their probabilities (db/top-predictions.ts
  // reads and writes the bytes), so a confusion cell's images page with their top-3 from the store.
  `
  ALTER TABLE evaluations ADD COLUMN top_predictions BLOB;
  CREATE INDEX evaluations_by_snapshot ON evaluations(snapshot_id, dataset_id, split);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Runs the migrations the file has not seen yet; refuses a file from a newer version of the app.
 * All of them run in one BEGIN IMMEDIATE transaction that re-reads the version inside: when several
 * processes start on a new library at once, one takes the write lock and migrates, the others wait
 * for it (busy_timeout) and then find nothing left to do. Foreign keys are off meanwhile, because
 * rebuilding a table drops and renames it (SQLite's "12 steps"); the foreign-key check at the end
 * must find nothing, or the whole migration rolls back.
 */
export function migrate(db: Database.Database): number {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const refuseNewer = (v: number) => {
    if (v > MIGRATIONS.length) throw new Error(`database schema version ${v} is newer than this app's ${MIGRATIONS.length}; update CNN Studio`);
  };
  refuseNewer(version());
  if (version() === MIGRATIONS.length) return MIGRATIONS.length;
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF'); // a no-op inside a transaction: it must be set before
  try {
    db.transaction(() => {
      const current = version();
      refuseNewer(current);
      for (let v = current; v < MIGRATIONS.length; v++) {
        db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${v + 1}`);
      }
      const broken = db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[];
      if (broken.length > 0) {
        const first = broken[0]!;
        throw new Error(`migrating the library left ${broken.length} broken reference(s), e.g. ${first.table} row ${first.rowid} → ${first.parent}; nothing was changed`);
      }
    }).immediate();
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
  return MIGRATIONS.length;
}
