/** Migrating a process tree (kinds/tree.ts) through the one front-end (migrate-workload.ts). */
import { TreeAdapter } from './kinds/tree.js';
import { migrateWorkload } from './migrate-workload.js';
import type { MigrationOptions } from './options.js';
import type { MigrationReport } from './report.js';

export interface TreeMigrationOptions extends MigrationOptions {
  /** The root of the tree. */
  pid: number;
}

export function migrateProcessTree(o: TreeMigrationOptions): Promise<MigrationReport> {
  return migrateWorkload(new TreeAdapter(o), o);
}
