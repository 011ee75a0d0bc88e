import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A chart of the report: its Vega-Lite spec, and the words a screen reader gives for it. */
export interface ChartSpec {
  /** Unique in the page: the prefix of the SVG's element ids. */
  id: string;
  /** Shown above the chart as HTML (it wraps at any width), and the SVG's <title>. */
  title: string;
  subtitle: string[];
  /** What the chart shows, in a sentence or two (the SVG's <desc>). */
  description: string;
  spec: TopLevelSpec;
}

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = {
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  green: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  black: '#000000',
} as const;

/**
 * The two renderings of each chart: for screens and for phones (the page shows one by CSS media
 * query, no script). `width` is the plot's width; the wide one keeps the spec's, the narrow one slants the labels of discrete x axes to fit.
 */
export const VARIANTS = {
  wide: { width: undefined, bandLabelAngle: 0 },
  narrow: { width: 280, bandLabelAngle: -40 },
} as const;
export type Variant = keyof typeof VARIANTS;

/**
 * Shared look: readable text sizes, the palette as the default category scheme. No ARIA on each
 * mark: the SVG is one image to a screen reader (role="img", its <title> and <desc>), which also
 * keeps a fifth of the page's bytes out.
 */
const CONFIG = {
  aria: false,
  font: 'sans-serif',
  background: 'white',
  axis: { labelFontSize: 12, titleFontSize: 13, labelColor: '#222', titleColor: '#222' },
  legend: {
    labelFontSize: 12,
    titleFontSize: 13,
    labelLimit: 0,
    titleLimit: 0,
    orient: 'bottom',
    direction: 'horizontal',
    columns: 2,
  },
  range: { category: Object.values(PALETTE) },
  view: { stroke: '#ccc' },
} as const;

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The chart as inline SVG, rendered here by Vega's SVG renderer (no canvas: text is measured by
 * Vega's estimate, the same on every machine). It scales to its container (viewBox, width 100%),
 * carries a <title> and <desc>, and its element ids are renumbered from the chart's id: Vega
 * numbers clip paths with a counter global to the process, which would make a second rendering
 * differ from the first.
 */
export async function renderSvg(chart: ChartSpec, variant: Variant): Promise<string> {
  const { width, bandLabelAngle } = VARIANTS[variant];
  const { spec } = compile({
    ...chart.spec,
    ...(width === undefined ? {} : { width }),
    config: { ...CONFIG, axisXDiscrete: { labelAngle: bandLabelAngle }, ...chart.spec.config },
  });
  const view = new View(parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const ids = new Map<string, string>();
  const svgId = `${chart.id}-${variant}`;
  for (const [, id] of svg.matchAll(/ id="([^"]+)"/g)) ids.set(id, `${svgId}-${ids.size + 1}`);
  const renumbered = svg.replace(/( id="|url\(#|href="#)([^")]+)/g, (all, lead: string, id: string) => {
    const renamed = ids.get(id);
    return renamed === undefined ? all : `${lead}${renamed}`;
  });
  // Coordinates to a hundredth of a pixel (Vega writes doubles such as 2.5000000000000107).
  const rounded = renumbered.replace(
    / (d|transform)="([^"]*)"/g,
    (_all, name: string, value: string) =>
      ` ${name}="${value.replace(/\d+\.\d{3,}/g, (x) => String(Number(Number(x).toFixed(2))))}"`,
  );
  const open = /^<svg [^>]*>/.exec(rounded);
  if (!open) throw new Error(`chart ${chart.id}: Vega's SVG has no <svg> element`);
  const svgWidth = /width="([\d.]+)"/.exec(open[0])?.[1];
  const head = open[0]
    .replace(/ width="[\d.]+"/, ` width="100%" style="max-width:${svgWidth ?? 800}px"`)
    .replace(/ height="[\d.]+"/, '')
    .replace('<svg ', `<svg role="img" aria-labelledby="${chart.id}-title ${chart.id}-desc" `);
  return (
    `${head}<title id="${svgId}-title">${escapeXml(chart.title)}</title>` +
    `<desc id="${svgId}-desc">${escapeXml(chart.description)}</desc>${rounded.slice(open[0].length)}`
  );
}
