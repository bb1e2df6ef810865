// Prints vitest's JSON result as the plain closing line CI reads: "N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';

const result = JSON.parse(readFileSync(process.argv[2] ?? 'test-results.json', 'utf8'));
const skipped = result.numPendingTests + result.numTodoTests;
console.log(`${result.numPassedTests} passed, ${result.numFailedTests} failed, ${skipped} skipped`);
process.exit(result.numFailedTests === 0 && result.numTotalTests > 0 ? 0 : 1);
