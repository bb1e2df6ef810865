// `ferry` run from sources, for tests that need a real server process (kill -9, two servers).
import { main } from '../../../cli/src/main.js';

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
