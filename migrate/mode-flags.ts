/** Flags migrate and drain share that pick one mode of a list: --page-channel, --prefetch, --page-forwarder. */
import { MigrateError, PAGE_CHANNEL_MODES, PAGE_FORWARDER_MODES, PREFETCH_MODES, type PageChannelMode, type PageForwarderMode, type PrefetchMode } from '../src/index.js';

function oneOf<T extends string>(flag: string, modes: readonly T[], v: string | undefined): T | undefined {
  if (v !== undefined && !(modes as readonly string[]).includes(v)) {
    throw new MigrateError('BAD_INPUT', `Expected --${flag} to be one of ${modes.join(', ')}, got \`${v}\``);
  }
  return v as T | undefined;
}

/** `--page-channel auto|direct|ssh` (src/migration/pipeline/page-channel.ts). */
export const pageChannelOf = (v: string | undefined): PageChannelMode | undefined => oneOf('page-channel', PAGE_CHANNEL_MODES, v);

/** `--prefetch auto|off` (src/prefetch/prefetcher.ts). */
export const prefetchOf = (v: string | undefined): PrefetchMode | undefined => oneOf('prefetch', PREFETCH_MODES, v);

/** `--page-forwarder auto|off` (src/transfer/page-forwarder.ts). */
export const pageForwarderOf = (v: string | undefined): PageForwarderMode | undefined => oneOf('page-forwarder', PAGE_FORWARDER_MODES, v);
