// Plain-text tables for the CLI.

/** A number in at most ~10 characters: fixed for ordinary magnitudes, exponent for tiny ones. */
export function num(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs < 1e-3 || abs >= 1e6) return value.toExponential(4);
  return value.toPrecision(6);
}

export function percent(value: number): string {
  if (!Number.isFinite(value)) return "∞";
  return `${(value * 100).toPrecision(2)}%`;
}

/** A relative error: two significant digits, exponent form. */
export function relative(value: number): string {
  if (!Number.isFinite(value)) return "∞";
  return value === 0 ? "0" : value.toExponential(1);
}

/** A figure as printed to `places` decimal places: fixed, or exponent form when tiny. */
export function printed(value: number, places: number): string {
  const abs = Math.abs(value);
  if (abs !== 0 && abs < 1e-3) {
    const digits = Math.max(1, places + Math.floor(Math.log10(abs)) + 1);
    return value.toExponential(digits - 1);
  }
  return value.toFixed(places);
}

/** Columns padded to their widest cell; numbers right-aligned, the first column left. */
export function renderTable(header: string[], rows: string[][]): string {
  const width = header.map((h, c) => Math.max([...h].length, ...rows.map((r) => [...r[c]].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(width[c]) : cell.padStart(width[c]))).join("  ").trimEnd();
  return [line(header), line(width.map((w) => "─".repeat(w))), ...rows.map(line)].join("\n");
}
