/**
 * A drain's journal: one JSON line per step, appended and fsynced before the step's effect can
 * matter, in `<journal dir>/<drain ID>.jsonl` on the controller (0700 directory, 0600 file). It
 * is what `migrate drain --resume ID` continues from after the controller died or the terminal
 * closed, and what `migrate undrain ID` reverses.
 *
 * A move is journalled `start` before migrate touches the container and `done` after its
 * report; a move with a `start` and no `done` is the one a dead controller left in flight, and
 * resume finds out where it runs before doing anything else (drain.ts).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MigrateError } from '../../transports/errors.js';
import { defaultWorkRoot } from '../migration/options.js';
import type { RunsOn } from '../migration/report.js';
import type { DrainPlan } from './plan.js';

/** Where journals live on the controller by default: `<work root>/drains` (MIGRATE_WORK_DIR). */
export const defaultJournalDir = (): string => join(defaultWorkRoot(), 'drains');

/** A drain's ID: its start time and a few random letters ("20261201-1302-k3f9"). */
export function newDrainId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 13);
  return `${t}-${randomBytes(3).toString('hex')}`;
}

export const isDrainId = (id: string): boolean => /^[\w][\w.-]{0,80}$/.test(id);

export type MoveOutcome = 'migrated' | 'rolled-back' | 'failed' | 'skipped';

export type JournalRecord =
  | { type: 'drain'; id: string; at: string; from: string; to: string[]; hosts: Record<string, string>; plan: DrainPlan; options: Record<string, unknown>; undrain_of?: string }
  | { type: 'start'; at: string; name: string; id: string; from: string; to: string }
  | { type: 'done'; at: string; name: string; outcome: MoveOutcome; runs_on: RunsOn; to: string | null; freeze_ms: number | null; report?: unknown; error?: unknown; reason?: string }
  | { type: 'end'; at: string; outcome: string };

export type DrainHeader = Extract<JournalRecord, { type: 'drain' }>;
type Done = Extract<JournalRecord, { type: 'done' }>;
type Start = Extract<JournalRecord, { type: 'start' }>;

/** What the journal says of one container. */
export interface MoveState {
  started?: Start;
  done?: Done;
}

export class DrainJournal {
  private constructor(readonly path: string, readonly header: DrainHeader, private readonly records: JournalRecord[]) {}

  /** A new journal for a drain (refused when that ID exists). */
  static create(dir: string, header: Omit<DrainHeader, 'type' | 'at'>): DrainJournal {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const path = join(dir, `${header.id}.jsonl`);
    if (existsSync(path)) throw new MigrateError('BAD_INPUT', `drain ${header.id} already exists (${path})`, { hint: `continue it with migrate drain --resume ${header.id}` });
    const first: DrainHeader = { type: 'drain', at: new Date().toISOString(), ...header };
    const j = new DrainJournal(path, first, []);
    j.append(first);
    fsyncDir(dir);
    return j;
  }

  /** An existing drain's journal. A last line cut short by a crash is ignored. */
  static open(dir: string, id: string): DrainJournal {
    if (!isDrainId(id)) throw new MigrateError('BAD_INPUT', `Expected a drain ID, got \`${id}\``);
    const path = join(dir, `${id}.jsonl`);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new MigrateError('BAD_INPUT', `no drain ${id}: ${path} does not exist`, { hint: `drain IDs are the file names in ${dir}` });
    }
    const records: JournalRecord[] = [];
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line) as JournalRecord);
      } catch (e) {
        if (i >= lines.length - 2) break; // the line being written when the controller died
        throw new MigrateError('BAD_INPUT', `drain journal ${path} is damaged at line ${i + 1}`, { cause: e, hint: 'it was edited by hand or the disk failed; move the containers by hand' });
      }
    }
    const header = records[0];
    if (header?.type !== 'drain') throw new MigrateError('BAD_INPUT', `${path} is not a drain journal`);
    return new DrainJournal(path, header, records);
  }

  /** Appends one record and makes it durable before returning. */
  append(r: JournalRecord): void {
    const fd = openSync(this.path, 'a', 0o600);
    try {
      writeSync(fd, JSON.stringify(r) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.records.push(r);
  }

  start(name: string, id: string, from: string, to: string): void {
    this.append({ type: 'start', at: new Date().toISOString(), name, id, from, to });
  }

  done(r: Omit<Done, 'type' | 'at'>): void {
    this.append({ type: 'done', at: new Date().toISOString(), ...r });
  }

  end(outcome: string): void {
    this.append({ type: 'end', at: new Date().toISOString(), outcome });
  }

  /** Each container's last start and done, by name. */
  moves(): Map<string, MoveState> {
    const m = new Map<string, MoveState>();
    for (const r of this.records) {
      if (r.type !== 'start' && r.type !== 'done') continue;
      const s = m.get(r.name) ?? {};
      if (r.type === 'start') {
        s.started = r;
        s.done = undefined; // a later attempt (resume) counts
      } else s.done = r;
      m.set(r.name, s);
    }
    return m;
  }

  get ended(): boolean {
    return this.records.some((r) => r.type === 'end');
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
