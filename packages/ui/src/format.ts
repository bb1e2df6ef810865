export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * `part` as a percentage of `whole`, one decimal; never rounded to 0.0% or 100.0% when it is
 * neither (a version sharing all but a few bytes does not read as sharing everything).
 */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '-';
  const text = ((100 * part) / whole).toFixed(1);
  if (part > 0 && text === '0.0') return '<0.1%';
  if (part < whole && text === '100.0') return '>99.9%';
  return `${text}%`;
}

export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}K`;
  if (n < 1e9) return `${(n / 1e6).toFixed(2)}M`;
  return `${(n / 1e9).toFixed(2)}B`;
}

export function formatTime(iso: string | null): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
