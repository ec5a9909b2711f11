// XKS calls per minute as stacked bars (succeeded, refused, failed), drawn as SVG with classes only
// (the policy allows no inline style), with the same numbers as a table for screen readers and keyboards.
import { element, table } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const KINDS = ['succeeded', 'refused', 'failed'];
const KIND = { ok: 'succeeded', denied: 'refused', error: 'failed' };

export function trafficChart(traffic) {
  const from = Date.parse(traffic.from);
  const minutes = Array.from({ length: 60 }, (_, i) => ({ start: from + i * 60000, succeeded: 0, refused: 0, failed: 0 }));
  for (const c of traffic.counts) {
    const minute = minutes[Math.round((Date.parse(c.minute) - from) / 60000)];
    if (minute) minute[KIND[c.outcome] ?? 'failed'] += c.calls;
  }

  const totals = Object.fromEntries(KINDS.map((k) => [k, minutes.reduce((sum, m) => sum + m[k], 0)]));
  const label = `XKS calls per minute over the last hour: ${totals.succeeded} succeeded, ${totals.refused} refused, ${totals.failed} failed`;
  const busy = minutes.filter((m) => m.succeeded + m.refused + m.failed > 0);
  return element('figure', null, [
    bars(minutes, label),
    element('figcaption', label, [], { id: 'traffic-summary' }),
    element('details', null, [
      element('summary', 'The minutes with calls, as a table'),
      table('XKS calls per minute', ['Minute', ...KINDS.map((k) => k[0].toUpperCase() + k.slice(1))],
        busy.map((m) => [new Date(m.start).toLocaleTimeString(), ...KINDS.map((k) => String(m[k]))])),
    ]),
  ]);
}

function bars(minutes, label) {
  const height = 100;
  const most = Math.max(1, ...minutes.map((m) => m.succeeded + m.refused + m.failed));
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${minutes.length * 10} ${height}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('class', 'traffic');
  minutes.forEach((m, i) => {
    let top = height;
    for (const kind of KINDS) {
      const h = (m[kind] / most) * height;
      if (h === 0) continue;
      top -= h;
      const bar = document.createElementNS(SVG, 'rect');
      for (const [name, value] of Object.entries({ x: i * 10 + 1, y: top, width: 8, height: h, class: kind })) bar.setAttribute(name, value);
      svg.append(bar);
    }
  });
  return svg;
}
