import { terminalText } from './terminal-text.js';

/** Renders rows as an aligned text table; numbers are right-aligned. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  // Cells come from files (tensor names, ops): one line each, control characters made visible.
  const cells = [header, ...rows.map((row) => row.map((cell) => terminalText(String(cell))))];
  const numeric = header.map(
    (_, col) => rows.length > 0 && rows.every((row) => typeof row[col] === 'number'),
  );
  // A loop, not Math.max(...column): spreading 200,000 rows overflows the call stack.
  const widths = header.map((_, col) => {
    let width = 0;
    for (const row of cells) width = Math.max(width, (row[col] ?? '').length);
    return width;
  });
  return cells
    .map((row) =>
      row
        .map((cell, col) => (numeric[col] ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}
