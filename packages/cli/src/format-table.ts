/** Renders rows as an aligned text table; numbers are right-aligned. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const numeric = header.map(
    (_, col) => rows.length > 0 && rows.every((row) => typeof row[col] === 'number'),
  );
  const widths = header.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
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
