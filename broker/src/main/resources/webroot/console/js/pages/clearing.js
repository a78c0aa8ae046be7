// Auditor: the monthly clearing statement of a chain as a requesting store × origin store matrix
// (who refunded on whose behalf; Vipps takes each refund from the origin store's settlement).
import { download, json, query } from '../api.js';
import { decimal, errorBox, field, fill, formValues, h, input } from '../ui.js';

const LAST_CHAIN = 'refund-broker.console.chain';

export function render(main) {
  const controller = new AbortController();
  const month = new Date().toISOString().slice(0, 7);
  const chain = input('chainId', { required: true, placeholder: 'e.g. acme', value: sessionStorage.getItem(LAST_CHAIN) || '' });
  const form = h('form', { class: 'grid card', id: 'clearing-form', autocomplete: 'off' },
    field('Chain', chain),
    field('Month (UTC)', input('month', { required: true, value: month, pattern: '[0-9]{4}-(0[1-9]|1[0-2])', placeholder: 'YYYY-MM' })),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', id: 'show-clearing' }, 'Show statement'),
      h('button', { type: 'button', class: 'secondary', id: 'clearing-csv' }, 'Download CSV')));
  const out = h('div', { id: 'clearing-out' });
  fill(main, h('h1', {}, 'Clearing statement'),
    h('p', { class: 'muted small' }, 'SUCCEEDED refunds completed in the month (UTC boundaries) where the requesting store is not the origin store.'),
    form, out);

  const params = () => {
    const v = formValues(form);
    sessionStorage.setItem(LAST_CHAIN, v.chainId);
    return { chainId: v.chainId, month: v.month };
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    fill(out, h('p', { class: 'loading' }, 'Loading…'));
    try {
      const statement = await json(`/v1/audit/clearing${query(params())}`, { signal: controller.signal });
      fill(out, matrix(statement));
    } catch (e) {
      if (e.name !== 'AbortError') fill(out, errorBox(e, 'The statement could not be read'));
    }
  });
  form.querySelector('#clearing-csv').addEventListener('click', async () => {
    if (!form.reportValidity()) return;
    const p = params();
    try {
      await download(`/v1/audit/clearing${query(p)}`, {
        accept: 'text/csv', filename: `clearing-${p.chainId}-${p.month}.csv`, signal: controller.signal,
      });
    } catch (e) {
      if (e.name !== 'AbortError') fill(out, errorBox(e, 'The CSV export failed'));
    }
  });

  if (!chain.value) {
    // A hint for the first visit: the chain of the oldest refund in the log. It never lands in a
    // field the user has already started on (it would be mixed into what they type).
    let touched = false;
    for (const event of ['focus', 'input']) chain.addEventListener(event, () => { touched = true; });
    json('/v1/audit/refunds?limit=1', { signal: controller.signal })
      .then((page) => { if (!touched && !chain.value && page.refunds.length) chain.value = page.refunds[0].chainId; })
      .catch(() => {});
  }
  return () => controller.abort();
}

function matrix(statement) {
  const names = new Map();
  const requesting = new Set();
  const origin = new Set();
  const cells = new Map();
  for (const line of statement.lines) {
    names.set(line.requestingStoreId, line.requestingStoreName);
    names.set(line.originStoreId, line.originStoreName);
    requesting.add(line.requestingStoreId);
    origin.add(line.originStoreId);
    const key = `${line.requestingStoreId}\u0000${line.originStoreId}`;
    if (!cells.has(key)) cells.set(key, []);
    cells.get(key).push(line);
  }
  const rows = [...requesting].sort();
  const cols = [...origin].sort();
  const header = h('div', { class: 'muted small' },
    `Chain ${statement.chainId}, ${statement.month} (${statement.from} – ${statement.to}, ${statement.timeZone}).`);
  if (statement.lines.length === 0) {
    return h('div', {}, header, h('p', { id: 'clearing-empty', class: 'muted' }, 'No cross-store refund completed in this month.'));
  }
  const sum = (lines) => {
    const by = new Map();
    for (const l of lines) {
      const t = by.get(l.amount.currency) || { refunds: 0, value: 0 };
      t.refunds += l.refunds;
      t.value += l.amount.value;
      by.set(l.amount.currency, t);
    }
    return [...by.entries()].map(([currency, t]) => h('div', {}, `${t.refunds} · ${currency} ${decimal(t.value, currency)}`));
  };
  const body = rows.map((r) => h('tr', {},
    h('th', {}, names.get(r) || r, h('div', { class: 'small muted' }, r)),
    cols.map((c) => {
      const lines = cells.get(`${r}\u0000${c}`) || [];
      return lines.length
        ? h('td', { class: 'cell', 'data-requesting': r, 'data-origin': c }, sum(lines))
        : h('td', { class: 'empty' }, '–');
    }),
    h('td', { class: 'cell total' }, sum(statement.lines.filter((l) => l.requestingStoreId === r)))));
  const totals = h('tr', { class: 'total' },
    h('td', {}, 'Taken from origin'),
    cols.map((c) => h('td', { class: 'cell' }, sum(statement.lines.filter((l) => l.originStoreId === c)))),
    h('td', { class: 'cell', id: 'clearing-grand-total' }, statement.totals.map((t) => h('div', {}, `${t.refunds} · ${t.amount.currency} ${t.amountDecimal || decimal(t.amount.value, t.amount.currency)}`))));
  return h('div', {}, header,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'matrix', id: 'clearing-matrix' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Requesting ↓ / origin →'),
          cols.map((c) => h('th', { class: 'num' }, names.get(c) || c, h('div', { class: 'small muted' }, c))),
          h('th', { class: 'num' }, 'Requested in all'))),
        h('tbody', {}, body, totals))),
    h('p', { class: 'small muted' }, 'Each cell: number of refunds · amount. Rows: the store that refunded; columns: the store whose Vipps settlement paid it.'));
}
