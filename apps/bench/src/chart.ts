// A small SVG bar chart (no dependency): horizontal bars on a log scale, one panel per metric.

/** One bar. */
export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly color: string;
  /** Drawn lighter, with the note after the value (e.g. "partial epoch"). */
  readonly note?: string;
}

/** Bars of one contender. */
export interface BarGroup {
  readonly label: string;
  readonly bars: readonly Bar[];
}

/** One chart panel. */
export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly groups: readonly BarGroup[];
  /** Legend entries (label, color), e.g. the matmul variants. */
  readonly legend?: readonly (readonly [string, string])[];
}

const WIDTH = 960;
const LEFT = 210;
const RIGHT = 150;
const BAR = 14;
const GAP = 3;
const GROUP_GAP = 8;

/** Escapes text for SVG. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Powers of ten from below `lo` to above `hi` (the log axis). */
export function logBounds(lo: number, hi: number): [number, number] {
  const a = 10 ** Math.floor(Math.log10(lo));
  let b = 10 ** Math.ceil(Math.log10(hi));
  if (b <= a) b = a * 10;
  return [a, b];
}

/** Compact value label: 1234 -> "1234", 12.34 -> "12.3", 0.1234 -> "0.123". */
function label(v: number): string {
  if (v >= 100) return Math.round(v).toString();
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

function panelSvg(p: Panel, top: number): { svg: string; height: number } {
  const values = p.groups
    .flatMap((g) => g.bars.map((b) => b.value))
    .filter((v) => v > 0 && Number.isFinite(v));
  const parts: string[] = [];
  parts.push(
    `<text x="16" y="${top + 16}" font-size="14" font-weight="bold">${esc(p.title)}</text>` +
      `<text x="16" y="${top + 32}" font-size="11" fill="#555">${esc(p.unit)}, log scale</text>`,
  );
  let y = top + 50;
  if (p.legend?.length) {
    let x = LEFT;
    for (const [name, color] of p.legend) {
      parts.push(
        `<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${color}"/><text x="${x + 14}" y="${y}" font-size="11">${esc(name)}</text>`,
      );
      x += 24 + name.length * 7;
    }
    y += 10;
  }
  if (!values.length) {
    parts.push(`<text x="${LEFT}" y="${y + 14}" font-size="12" fill="#777">no measurements</text>`);
    return { svg: parts.join('\n'), height: y + 24 - top };
  }
  const [lo, hi] = logBounds(Math.min(...values), Math.max(...values));
  const span = WIDTH - LEFT - RIGHT;
  const xOf = (v: number) => LEFT + (Math.log10(v / lo) / Math.log10(hi / lo)) * span;
  const axisTop = y;
  y += 6;
  for (const g of p.groups) {
    const h = g.bars.length * (BAR + GAP) - GAP;
    parts.push(
      `<text x="${LEFT - 8}" y="${y + h / 2 + 4}" font-size="12" text-anchor="end">${esc(g.label)}</text>`,
    );
    for (const b of g.bars) {
      const ok = b.value > 0 && Number.isFinite(b.value);
      const w = ok ? Math.max(1, xOf(b.value) - LEFT) : 0;
      const opacity = b.note ? ' fill-opacity="0.45"' : '';
      parts.push(
        `<rect x="${LEFT}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" fill="${b.color}"${opacity}><title>${esc(`${g.label} ${b.label}: ${ok ? label(b.value) : '-'} ${p.unit}`)}</title></rect>`,
      );
      const text = `${ok ? label(b.value) : 'n/a'}${b.note ? ` (${b.note})` : ''}`;
      parts.push(
        `<text x="${(LEFT + w + 4).toFixed(1)}" y="${y + BAR - 3}" font-size="11" fill="#333">${esc(text)}</text>`,
      );
      y += BAR + GAP;
    }
    y += GROUP_GAP;
  }
  for (let v = lo; v <= hi * 1.0001; v *= 10) {
    const x = xOf(v).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${axisTop}" x2="${x}" y2="${y}" stroke="#ccc" stroke-dasharray="3,3"/>` +
        `<text x="${x}" y="${y + 12}" font-size="10" text-anchor="middle" fill="#555">${String(Number(v.toPrecision(1)))}</text>`,
    );
  }
  return { svg: parts.join('\n'), height: y + 24 - top };
}

/** Renders panels under a title as one SVG document. */
export function renderChart(title: string, subtitle: string, panels: readonly Panel[]): string {
  const body: string[] = [];
  let y = 50;
  for (const p of panels) {
    if (!p.groups.length) continue;
    const { svg, height } = panelSvg(p, y);
    body.push(svg);
    y += height + 16;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="sans-serif" role="img">`,
    `<title>${esc(
      `${title}: ${panels
        .filter((p) => p.groups.length)
        .map((p) => p.title)
        .join('; ')}`,
    )}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="16" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`,
    `<text x="16" y="40" font-size="11" fill="#555">${esc(subtitle)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** Bar colors per contender family. */
export function colorOf(id: string, shade = 0): string {
  const palette: Record<string, readonly string[]> = {
    gradkit: ['#1f5fbf', '#5b8fd9', '#a3c1ec'],
    tfjs: ['#e07b00', '#f0a648', '#f7cf99'],
    brain: ['#2e8b3e', '#6bb878', '#a9d8b0'],
    torch: ['#c0392b', '#dd7669', '#eeb1a9'],
    js: ['#666666', '#999999', '#cccccc'],
  };
  const family = Object.keys(palette).find((k) => id.startsWith(k)) ?? 'js';
  const p = palette[family];
  return p[Math.min(shade, p.length - 1)];
}
