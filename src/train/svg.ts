// A line chart as a standalone SVG document, written by hand: one polyline per
// series, x and y axes with ticks at "nice" values (1, 2 or 5 × 10^k), axis labels,
// a title and a legend. For `qfirm train --curve`: the per-epoch mean training loss
// of the fixed-point module and of the float64 reference.

export interface Series {
  name: string;
  /** y values at x = 1, 2, …, values.length. */
  values: number[];
  color: string;
  /** Stroke dash pattern ("6 4"), so overlapping curves stay visible. */
  dash?: string;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

const WIDTH = 640;
const HEIGHT = 400;
const MARGIN = { left: 72, right: 24, top: 40, bottom: 56 };

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** The step between ticks: 1, 2 or 5 × 10^k, the smallest that gives at most about `count` steps over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw * (1 - 1e-12)) ?? 10 * power;
}

/** An axis covering [min, max] whose ends are ticks: multiples of a nice step. */
export function niceScale(min: number, max: number, count = 5): { min: number; max: number; ticks: number[] } {
  if (!(max > min)) max = min + 1;
  const step = niceStep(max - min, count);
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return { min: ticks[0], max: ticks[ticks.length - 1], ticks };
}

function label(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(6)));
}

function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}

export function lineChartSvg(chart: Chart): string {
  const points = chart.series.flatMap((s) => s.values).filter(Number.isFinite);
  const count = Math.max(1, ...chart.series.map((s) => s.values.length));
  // y from 0 (losses are ≥ 0) unless a value is negative.
  const yMinData = Math.min(0, ...points);
  const yMaxData = points.length ? Math.max(...points) : 1;
  const { min: yMin, max: yMax, ticks: yTicks } = niceScale(yMinData, yMaxData > yMinData ? yMaxData : yMinData + 1);
  // Epochs are integers: a step of at least 1, ticks from 1 where the step allows.
  const xStep = Math.max(1, niceStep(Math.max(count - 1, 1), 10));
  // Epoch 1 starts the axis; it gets a tick unless the next one would crowd it.
  const xTicks: number[] = [];
  for (let t = xStep; t <= count; t += xStep) xTicks.push(t);
  if (xTicks[0] !== 1 && xTicks[0] - 1 >= 0.6 * xStep) xTicks.unshift(1);

  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (epoch: number) => MARGIN.left + (count === 1 ? plotW / 2 : ((epoch - 1) / (count - 1)) * plotW);
  const y = (value: number) => MARGIN.top + plotH - ((value - yMin) / (yMax - yMin)) * plotH;
  const bottom = MARGIN.top + plotH;
  const right = MARGIN.left + plotW;

  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`  <title>${escapeXml(chart.title)}</title>`);
  out.push(`  <rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  out.push(`  <text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(chart.title)}</text>`);

  out.push(`  <g class="grid" stroke="#e4e4e4" stroke-width="1">`);
  for (const t of yTicks) out.push(`    <line x1="${MARGIN.left}" y1="${px(y(t))}" x2="${right}" y2="${px(y(t))}"/>`);
  out.push(`  </g>`);

  out.push(`  <g class="axes" stroke="black" stroke-width="1">`);
  out.push(`    <line x1="${MARGIN.left}" y1="${bottom}" x2="${right}" y2="${bottom}"/>`);
  out.push(`    <line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}"/>`);
  for (const t of xTicks) out.push(`    <line x1="${px(x(t))}" y1="${bottom}" x2="${px(x(t))}" y2="${bottom + 5}"/>`);
  for (const t of yTicks) out.push(`    <line x1="${MARGIN.left - 5}" y1="${px(y(t))}" x2="${MARGIN.left}" y2="${px(y(t))}"/>`);
  out.push(`  </g>`);

  out.push(`  <g class="tick-labels">`);
  for (const t of xTicks) out.push(`    <text x="${px(x(t))}" y="${bottom + 19}" text-anchor="middle">${label(t)}</text>`);
  for (const t of yTicks) out.push(`    <text x="${MARGIN.left - 8}" y="${px(y(t) + 4)}" text-anchor="end">${label(t)}</text>`);
  out.push(`  </g>`);
  out.push(`  <text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
  out.push(
    `  <text x="18" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 18 ${MARGIN.top + plotH / 2})">${escapeXml(chart.yLabel)}</text>`,
  );

  for (const s of chart.series) {
    const coords = s.values
      .map((v, k) => (Number.isFinite(v) ? `${px(x(k + 1))},${px(y(v))}` : undefined))
      .filter((c) => c !== undefined)
      .join(" ");
    const dash = s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : "";
    out.push(
      `  <polyline class="series" data-name="${escapeXml(s.name)}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="2"${dash} points="${coords}"/>`,
    );
  }

  const legendX = right - 230;
  out.push(`  <g class="legend">`);
  out.push(
    `    <rect x="${legendX - 10}" y="${MARGIN.top + 6}" width="226" height="${14 + 20 * chart.series.length}" fill="white" stroke="#999"/>`,
  );
  chart.series.forEach((s, k) => {
    const ly = MARGIN.top + 23 + 20 * k;
    const dash = s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : "";
    out.push(`    <line x1="${legendX}" y1="${ly}" x2="${legendX + 28}" y2="${ly}" stroke="${escapeXml(s.color)}" stroke-width="2"${dash}/>`);
    out.push(`    <text x="${legendX + 36}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push(`  </g>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/** The chart `qfirm train --curve` writes. */
export function lossCurveSvg(name: string, fixed: number[], float: number[]): string {
  return lineChartSvg({
    title: `${name}: mean training loss per epoch`,
    xLabel: "epoch",
    yLabel: "mean training loss",
    series: [
      { name: "fixed-point module", values: fixed, color: "#d62728" },
      { name: "float64 reference", values: float, color: "#1f77b4", dash: "6 4" },
    ],
  });
}
