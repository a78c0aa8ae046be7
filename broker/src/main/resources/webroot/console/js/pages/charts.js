// Auditor: refunds per day (count and amount) and per store pair, drawn with uPlot from the refund
// log (read page by page through the API; cancellable).
import uPlot from '../../vendor/uplot/uPlot.esm.js';
import { json, query } from '../api.js';
import { decimal, errorBox, field, fill, formValues, h, input, progress, select, table } from '../ui.js';

const DAY = 86400;

export function render(main) {
  let loading = null;
  const plots = [];
  const since = new Date(Date.now() - 30 * DAY * 1000).toISOString().slice(0, 10);
  const form = h('form', { class: 'grid card', id: 'chart-form', autocomplete: 'off' },
    field('From (UTC)', input('from', { value: `${since}T00:00:00Z` })),
    field('To (UTC, exclusive)', input('to', { placeholder: 'now' })),
    field('Status', select('status', [['SUCCEEDED', 'SUCCEEDED'], ['', 'any']])),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'draw-charts' }, 'Draw')));
  const status = h('div', { id: 'chart-status' });
  const out = h('div', { id: 'charts' });
  fill(main, h('h1', {}, 'Charts'), form, status, out);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (loading) loading.abort();
    loading = new AbortController();
    const mine = loading;
    const v = formValues(form);
    const shown = progress('Reading the refund log', () => mine.abort());
    fill(status, shown.el);
    const refunds = [];
    try {
      let cursor;
      do {
        const page = await json(`/v1/audit/refunds${query({ from: v.from, to: v.to, status: v.status, limit: 1000, cursor })}`, { signal: mine.signal });
        refunds.push(...page.refunds);
        shown.update(`${refunds.length} refunds`);
        cursor = page.nextCursor;
      } while (cursor);
      shown.done();
      fill(status);
      draw(out, refunds, plots, v.from, v.to);
    } catch (e) {
      shown.done();
      fill(status, e.name === 'AbortError'
        ? h('div', { class: 'alert warn', role: 'status' }, 'Cancelled.')
        : errorBox(e, 'The refund log could not be read'));
    } finally {
      if (loading === mine) loading = null;
    }
  });
  form.requestSubmit();
  return () => {
    if (loading) loading.abort();
    plots.forEach((p) => p.destroy());
  };
}

function draw(out, refunds, plots, from, to) {
  plots.splice(0).forEach((p) => p.destroy());
  if (refunds.length === 0) {
    fill(out, h('p', { class: 'muted', id: 'charts-empty' }, 'No refunds in this range.'));
    return;
  }
  // Amounts are charted in the most common currency; refunds in others are counted only.
  const currencies = new Map();
  refunds.forEach((r) => currencies.set(r.amount.currency, (currencies.get(r.amount.currency) || 0) + 1));
  const currency = [...currencies.entries()].sort((a, b) => b[1] - a[1])[0][0];

  const days = new Map();
  const pairs = new Map();
  for (const r of refunds) {
    const day = Math.floor(Date.parse(r.createdAt) / 1000 / DAY) * DAY;
    const d = days.get(day) || { count: 0, value: 0 };
    d.count += 1;
    if (r.amount.currency === currency) d.value += r.amount.value;
    days.set(day, d);
    const key = `${r.requestingStoreId} → ${r.originStoreId}`;
    const p = pairs.get(key) || { count: 0, value: 0 };
    p.count += 1;
    if (r.amount.currency === currency) p.value += r.amount.value;
    pairs.set(key, p);
  }
  // Every day of the range, refunds or not (so one busy day still reads as a day among others).
  const dayOf = (text, fallback) => {
    const t = Date.parse(text);
    return Number.isNaN(t) ? fallback : Math.floor(t / 1000 / DAY) * DAY;
  };
  const first = Math.min(dayOf(from, Infinity), ...days.keys());
  const last = Math.max(dayOf(to ? new Date(Date.parse(to) - 1).toISOString() : '', Math.floor(Date.now() / 1000 / DAY) * DAY), ...days.keys());
  const xs = [];
  for (let t = first; t <= last; t += DAY) xs.push(t);
  const counts = xs.map((t) => (days.get(t) || { count: 0 }).count);
  const amounts = xs.map((t) => (days.get(t) || { value: 0 }).value / 100);
  const pairList = [...pairs.entries()].sort((a, b) => b[1].value - a[1].value);

  const dayChart = h('div', { class: 'chart', id: 'chart-days' });
  const pairChart = h('div', { class: 'chart', id: 'chart-pairs' });
  fill(out,
    h('h2', {}, `Refunds per day (count, and amount in ${currency})`), dayChart,
    h('h2', {}, `Per store pair (requesting → origin), amount in ${currency}`), pairChart,
    table([{ label: 'Requesting → origin' }, { label: 'Refunds', num: true }, { label: `Amount (${currency})`, num: true }],
      pairList.map(([key, p]) => h('tr', {}, h('td', {}, key), h('td', { class: 'num' }, p.count), h('td', { class: 'num' }, decimal(p.value, currency)))),
      { id: 'pair-table' }));

  const width = () => Math.max(280, out.clientWidth - 24);
  plots.push(new uPlot({
    width: width(), height: 260,
    scales: { x: { time: true }, count: { auto: true }, amount: { auto: true } },
    series: [
      {},
      { label: 'Refunds', scale: 'count', stroke: '#2f6fed', fill: 'rgba(47,111,237,.35)', paths: uPlot.paths.bars({ size: [0.6, 24] }), points: { show: false } },
      { label: `Amount (${currency})`, scale: 'amount', stroke: '#147a3d', width: 2, points: { show: true } },
    ],
    axes: [{}, { scale: 'count', label: 'refunds' }, { scale: 'amount', side: 1, label: currency, grid: { show: false } }],
  }, [xs, counts, amounts], dayChart));

  const labels = pairList.map(([key]) => key);
  const bars = uPlot.paths.bars({ size: [0.6, 60] });
  plots.push(new uPlot({
    width: width(), height: 240,
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
    series: [
      {},
      { label: `Amount (${currency})`, stroke: '#2f6fed', fill: 'rgba(47,111,237,.35)', paths: bars, points: { show: false } },
    ],
    axes: [
      {
        splits: () => labels.map((_, i) => i),
        values: (u, ticks) => ticks.map((t) => labels[t] || ''),
        gap: 6,
      },
      { label: currency },
    ],
  }, [labels.map((_, i) => i), pairList.map(([, p]) => p.value / 100)], pairChart));
}
