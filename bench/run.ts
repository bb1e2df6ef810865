/**
 * `npm run bench -- SUITE...` runs benchmark suites and writes their sections of BENCHMARKS.md.
 * Each suite is a module in bench/suites/ exporting `run(): Promise<void>`; a suite name may
 * stand for several modules (`formats` = every `formats-*.ts`).
 */
import { readdirSync } from 'node:fs';

const dir = new URL('./suites/', import.meta.url);
const modules = readdirSync(dir)
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
  .map((file) => file.replace(/\.ts$/, ''))
  .sort();

const wanted = process.argv.slice(2);
if (wanted.length === 0) {
  console.log(
    `usage: npm run bench -- SUITE...\nsuites: ${[...new Set(modules.map((m) => m.split('-')[0]))].join(', ')}`,
  );
  process.exit(2);
}
for (const name of wanted) {
  const chosen = modules.filter((m) => m === name || m.startsWith(`${name}-`));
  if (chosen.length === 0) {
    console.error(`bench: no suite named ${name}`);
    process.exit(2);
  }
  for (const module of chosen) {
    console.log(`bench: ${module}`);
    const suite = (await import(new URL(`${module}.ts`, dir).href)) as { run: () => Promise<void> };
    await suite.run();
  }
}
