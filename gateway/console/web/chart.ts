/** One uPlot line chart per series, sized to the phone's width. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom.js';

/** `range` is the query's window in ms, so the x axis shows the whole 24 h / 7 d / 30 d however few points there are. */
export function lineChart(
  title: string,
  t: number[],
  values: (number | null)[],
  range: [number, number],
  unit = '',
): HTMLElement {
  const box = h('figure', { class: 'chart', 'data-field': title });
  const caption = h(
    'figcaption',
    {},
    `${title}${unit ? ` (${unit})` : ''}: ${values.filter((v) => v !== null).length} points`,
  );
  box.append(caption);
  const width = Math.min(720, Math.max(280, (document.getElementById('main')?.clientWidth ?? 360) - 24));
  const opts: uPlot.Options = {
    width,
    height: 160,
    legend: { show: false },
    scales: { x: { time: true, range: [range[0] / 1000, range[1] / 1000] } },
    axes: [{ stroke: '#333' }, { stroke: '#333', size: 64 }],
    series: [{}, { label: title, stroke: '#1f6f3a', width: 2, points: { show: values.length < 60 } }],
  };
  // uPlot wants seconds on a time axis.
  const plot = new uPlot(opts, [t.map((ms) => ms / 1000), values], box);
  plot.root.setAttribute('role', 'img');
  plot.root.setAttribute('aria-label', `${title} over time, ${values.length} points`);
  return box;
}
