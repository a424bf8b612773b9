/** Migrating a container runc runs by itself (kinds/runc.ts) through the one front-end (migrate-workload.ts). */
import { RuncAdapter, type RuncOptions } from './kinds/runc.js';
import { migrateWorkload } from './migrate-workload.js';
import type { MigrationOptions } from './options.js';
import type { MigrationReport } from './report.js';

export interface RuncMigrationOptions extends MigrationOptions, RuncOptions {}

export function migrateRuncContainer(o: RuncMigrationOptions): Promise<MigrationReport> {
  return migrateWorkload(new RuncAdapter(o), o);
}
