/**
 * The matrix's chart: freeze time against memory size (both log scales), one line per kind and
 * row, one panel per dirty rate. A Vega-Lite spec compiled to Vega and rendered headless to SVG
 * (renderer 'none': no canvas, no browser).
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface ChartPoint {
  /** The line it belongs to, e.g. `docker: migrate --strategy cold`. */
  series: string;
  kind: string;
  sizeMib: number;
  dirtyMibS: number;
  /** Freeze in seconds. */
  median: number;
  min: number;
  max: number;
}

export function freezeChartSpec(points: ChartPoint[], title: string): TopLevelSpec {
  const sizes = [...new Set(points.map((p) => p.sizeMib))].sort((a, b) => a - b);
  const domain: number[] = [Math.min(...sizes) / 2, Math.max(...sizes) * 2];
  const x = {
    field: 'sizeMib', type: 'quantitative', title: 'Resident memory (MiB, log scale)',
    scale: { type: 'log', base: 2, domain }, axis: { values: sizes },
  } as const;
  const y = { type: 'quantitative', scale: { type: 'log' }, title: 'Freeze (s, log scale): median, bar = min…max' } as const;
  const color = { field: 'series', type: 'nominal', title: 'Kind: row', legend: { labelLimit: 700, orient: 'bottom', columns: 1 } } as const;
  // Dashed lines for trees; the series name already says the kind, so no second legend.
  const dash = { field: 'kind', type: 'nominal', legend: null } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: points },
    facet: { column: { field: 'dirtyMibS', type: 'ordinal', title: 'Dirty rate (MiB/s)' } },
    spec: {
      width: 280,
      height: 260,
      layer: [
        { mark: { type: 'rule' }, encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, color } },
        { mark: { type: 'line', point: true }, encoding: { x, y: { ...y, field: 'median' }, color, strokeDash: dash } },
      ],
    },
    resolve: { scale: { y: 'shared' } },
    config: { font: 'sans-serif' },
  };
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
