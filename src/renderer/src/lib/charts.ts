// Chart.js for the statistics and compare views: only the controllers, elements, scales and plugins
// the views draw with are registered (tree-shaken), with the app's dark theme. Chart.js draws on a
// canvas and sets element sizes through the CSSOM, so it needs nothing beyond the app's CSP; no
// animation, so a chart is drawn completely as soon as its data changes.

import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement,
  Title, Tooltip,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LogarithmicScale, LineController, LineElement, PointElement, Legend, Title, Tooltip);
Chart.defaults.color = '#cccccc';
Chart.defaults.borderColor = '#3c3c3c';
Chart.defaults.font.family = "system-ui, 'DejaVu Sans', sans-serif";
Chart.defaults.font.size = 11;
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.plugins.legend.labels.boxWidth = 12;
Chart.defaults.plugins.title.color = '#8a8a8a';
Chart.defaults.plugins.title.font = { size: 11, weight: 'normal' };

export { Chart };

/** A colour per mode, the same in every chart. */
export const MODE_COLORS: Record<string, string> = {
  bare: '#8a8a8a',
  emulate: '#4fc1ff',
  trap: '#d7ba7d',
  bt: '#89d185',
  pv: '#c586c0',
  hw: '#f48771',
};

/** Colours for the cost breakdown's event kinds, in the order of the cost model's table. */
export const COST_COLORS: Record<string, string> = {
  instructions: '#4fc1ff',
  exits: '#f14c4c',
  emulation: '#d7ba7d',
  reflection: '#c586c0',
  shadowFills: '#89d185',
  shadowSyncs: '#4ec9b0',
  shadowFlushes: '#b5cea8',
  pageWalks: '#9cdcfe',
  devices: '#ce9178',
  hypercalls: '#dcdcaa',
  translation: '#f48771',
};

/** The cost model's event kinds in words (docs/vmm.md). */
export const COST_LABELS: Record<string, string> = {
  instructions: 'instructions',
  exits: 'exits',
  emulation: 'emulated instructions',
  reflection: 'reflected traps',
  shadowFills: 'shadow fills',
  shadowSyncs: 'shadow syncs',
  shadowFlushes: 'shadow flushes',
  pageWalks: 'page-walk references',
  devices: 'device accesses',
  hypercalls: 'hypercalls',
  translation: 'translation',
};

/** A colour for a name without one of its own. */
export function colorOf(name: string, table: Record<string, string>): string {
  return table[name] ?? '#cccccc';
}
