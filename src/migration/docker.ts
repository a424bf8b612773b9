/** Migrating a Docker container (kinds/docker.ts) through the one front-end (migrate-workload.ts). */
import { DockerAdapter, type DockerOptions } from './kinds/docker.js';
import { migrateWorkload } from './migrate-workload.js';
import type { MigrationOptions } from './options.js';
import type { MigrationReport } from './report.js';

export interface DockerMigrationOptions extends MigrationOptions, DockerOptions {}

export function migrateDockerContainer(o: DockerMigrationOptions): Promise<MigrationReport> {
  return migrateWorkload(new DockerAdapter(o), o);
}
