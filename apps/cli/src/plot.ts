// A dependency-free SVG chart of training curves: one panel for the loss, one for the accuracy,
// training and validation series in each, with axes, ticks, a legend and a title. Readable in any
// browser or image viewer, without gradkit.

/** One curve: a name, a colour and (x, y) points (y may be NaN for missing values). */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly dashed?: boolean;
  readonly points: readonly (readonly [number, number])[];
}

/** One panel of the chart. */
export interface Panel {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Format tick labels of the y axis (default: 3 significant digits). */
  readonly yFormat?: (v: number) => string;
  /** Where the legend goes (default top right; bottom right suits rising curves). */
  readonly legend?: 'top' | 'bottom';
}

const W = 520;
const H = 340;
const M = { left: 64, right: 16, top: 36, bottom: 48 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** "Nice" tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): number[] {
  if (!(hi > lo)) {
    const pad = integer ? 1 : Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    return niceTicks(lo - pad, hi + pad, count, integer);
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  if (integer) step = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < hi) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

function panel(p: Panel, ox: number, oy: number): string {
  const pts = p.series.flatMap((s) => s.points.filter(([, y]) => Number.isFinite(y)));
  const out: string[] = [];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  out.push(`<g transform="translate(${ox},${oy})">`);
  out.push(
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(p.title)}</text>`,
  );
  if (pts.length === 0) {
    out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#888">no data</text></g>`);
    return out.join('\n');
  }
  const xs = niceTicks(
    Math.min(...pts.map((q) => q[0])),
    Math.max(...pts.map((q) => q[0])),
    6,
    pts.every((q) => Number.isInteger(q[0])),
  );
  const ys = niceTicks(Math.min(...pts.map((q) => q[1])), Math.max(...pts.map((q) => q[1])), 5);
  const [x0, x1, y0, y1] = [xs[0], xs[xs.length - 1], ys[0], ys[ys.length - 1]];
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0 || 1)) * pw;
  const sy = (y: number) => M.top + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const fmt = p.yFormat ?? ((v: number) => Number(v.toPrecision(3)).toString());
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#333"/>`);
  for (const y of ys) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(y)}" y2="${sy(y)}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${M.left - 6}" y="${sy(y) + 4}" text-anchor="end" font-size="11">${esc(fmt(y))}</text>`,
    );
  }
  for (const x of xs) {
    out.push(`<line x1="${sx(x)}" x2="${sx(x)}" y1="${M.top}" y2="${M.top + ph}" stroke="#f0f0f0"/>`);
    out.push(
      `<text x="${sx(x)}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${esc(String(x))}</text>`,
    );
  }
  out.push(
    `<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle" font-size="12">${esc(p.xLabel)}</text>`,
    `<text transform="translate(16,${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`,
  );
  p.series.forEach((s, k) => {
    const segs = s.points
      .filter(([, y]) => Number.isFinite(y))
      .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    if (segs.length === 0) return;
    const dash = s.dashed ? ' stroke-dasharray="6,4"' : '';
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${segs.join(' ')}"/>`,
    );
    if (segs.length <= 60)
      for (const q of segs)
        out.push(`<circle cx="${q.split(',')[0]}" cy="${q.split(',')[1]}" r="2.5" fill="${s.color}"/>`);
    const ly = p.legend === 'bottom' ? M.top + ph - 10 - 16 * (p.series.length - 1 - k) : M.top + 14 + 16 * k;
    out.push(
      `<line x1="${M.left + pw - 130}" x2="${M.left + pw - 108}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${M.left + pw - 102}" y="${ly}" font-size="11">${esc(s.name)}</text>`,
    );
  });
  out.push('</g>');
  return out.join('\n');
}

/**
 * Renders panels side by side as one SVG document with a title line.
 *
 * @example
 * ```ts
 * writeFileSync('curves.svg', renderChart('MNIST MLP', [lossPanel, accuracyPanel]));
 * ```
 */
export function renderChart(title: string, panels: readonly Panel[]): string {
  const width = W * panels.length;
  const height = H + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fafafa"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" fill="#333">${esc(title)}</text>`,
    ...panels.map((p, i) => panel(p, i * W, 30)),
    '</svg>',
    '',
  ].join('\n');
}
