/** `--page-channel auto|direct|ssh` (src/migration/pipeline/page-channel.ts), for migrate and drain. */
import { MigrateError, PAGE_CHANNEL_MODES, type PageChannelMode } from '../src/index.js';

export function pageChannelOf(v: string | undefined): PageChannelMode | undefined {
  if (v !== undefined && !PAGE_CHANNEL_MODES.includes(v as PageChannelMode)) {
    throw new MigrateError('BAD_INPUT', `Expected --page-channel to be one of ${PAGE_CHANNEL_MODES.join(', ')}, got \`${v}\``);
  }
  return v as PageChannelMode | undefined;
}
