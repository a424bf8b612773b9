#!/usr/bin/env node
/** Entry point of the `migrate` binary. */
import { main } from './main.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Commands left to finish on their own (a CRIU that hung past --freeze-timeout: the host's guard
// waits for it) must not keep migrate itself waiting: once the output is flushed, exit.
setTimeout(() => process.stdout.write('', () => process.exit(code)), 1000).unref();
