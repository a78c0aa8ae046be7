// Auditor: the refund log, filtered and paged with the API's cursor; CSV from the API's own export.
import { download, json, query } from '../api.js';
import {
  badge, bytes, errorBox, field, fill, formValues, h, input, money, okBox, progress, select, table, when,
} from '../ui.js';

const STATUSES = [['', 'any'], 'PENDING', 'SUCCEEDED', 'FAILED', 'UNKNOWN'];

export function render(main) {
  const controller = new AbortController();
  let csv = null;
  const form = h('form', { class: 'grid card', id: 'refund-filters', autocomplete: 'off' },
    field('From (UTC)', input('from', { placeholder: '2026-11-01T00:00:00Z' })),
    field('To (UTC, exclusive)', input('to', { placeholder: '2026-12-01T00:00:00Z' })),
    field('Status', select('status', STATUSES)),
    field('Requesting store', input('requestingStoreId')),
    field('Origin store', input('originStoreId')),
    field('Order id', input('orderId')),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', id: 'apply-filters' }, 'Apply'),
      h('button', { type: 'button', class: 'secondary', id: 'download-csv' }, 'Download CSV')));
  const messages = h('div', { id: 'refund-messages' });
  const results = h('div', { id: 'refund-results' });
  const pager = h('div', { class: 'pager' });
  fill(main, h('h1', {}, 'Refund log'), form, messages, results, pager);

  let filters = {};
  let cursors = [undefined];
  let page = 0;

  async function load() {
    fill(messages);
    fill(results, h('p', { class: 'loading' }, 'Loading…'));
    try {
      const answer = await json(`/v1/audit/refunds${query({ ...filters, cursor: cursors[page], limit: 50 })}`,
        { signal: controller.signal });
      cursors[page + 1] = answer.nextCursor;
      showPage(answer.refunds);
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(results);
      messages.append(errorBox(e, 'The refund log could not be read'));
    }
  }

  function showPage(refunds) {
    if (refunds.length === 0) {
      fill(results, h('p', { class: 'muted', id: 'no-refunds' }, 'No refund matches these filters.'));
    } else {
      fill(results, table(
        [{ label: 'Created (UTC)' }, { label: 'Status' }, { label: 'Order' }, { label: 'Requested by' },
          { label: 'Origin store' }, { label: 'Amount', num: true }, { label: 'Reason' }, { label: 'Refund id' }],
        refunds.map((r) => h('tr', { 'data-refund-id': r.refundId },
          h('td', {}, when(r.createdAt)),
          h('td', {}, badge(r.status), r.failureCode ? h('div', { class: 'small muted' }, r.failureCode) : null),
          h('td', {}, h('code', {}, r.orderId)),
          h('td', {}, r.requestingStoreId),
          h('td', {}, r.originStoreId, h('div', { class: 'small muted' }, `MSN ${r.msn} · ${r.api}`)),
          h('td', { class: 'num' }, money(r.amount)),
          h('td', {}, r.reason),
          h('td', {}, h('code', {}, r.refundId)))),
        { id: 'refund-table' }));
    }
    fill(pager,
      h('button', { type: 'button', class: 'secondary', id: 'page-prev', disabled: page === 0, onclick: () => { page -= 1; load(); } }, '← Previous'),
      h('span', { class: 'muted small' }, `Page ${page + 1}`),
      h('button', { type: 'button', class: 'secondary', id: 'page-next', disabled: !cursors[page + 1], onclick: () => { page += 1; load(); } }, 'Next →'));
  }

  function readFilters() {
    const values = formValues(form);
    const picked = {};
    for (const key of ['from', 'to', 'status', 'requestingStoreId', 'originStoreId', 'orderId']) {
      if (values[key]) picked[key] = values[key];
    }
    return picked;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    filters = readFilters();
    cursors = [undefined];
    page = 0;
    load();
  });

  form.querySelector('#download-csv').addEventListener('click', async () => {
    if (csv) return;
    csv = new AbortController();
    fill(messages);
    const chosen = readFilters();
    const shown = progress('Exporting the refund log as CSV', () => csv && csv.abort());
    messages.append(shown.el);
    try {
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
      const result = await download(`/v1/audit/refunds${query(chosen)}`, {
        accept: 'text/csv',
        filename: `refunds-${stamp}.csv`,
        signal: csv.signal,
        onProgress: (n) => shown.update(`${bytes(n)} received`),
      });
      shown.done();
      messages.append(okBox(`Downloaded refunds-${stamp}.csv (${bytes(result.bytes)}).`));
    } catch (e) {
      shown.done();
      messages.append(e.name === 'AbortError'
        ? h('div', { class: 'alert warn', role: 'status', id: 'csv-cancelled' }, 'CSV export cancelled.')
        : errorBox(e, 'The CSV export failed'));
    } finally {
      csv = null;
    }
  });

  load();
  return () => {
    controller.abort();
    if (csv) csv.abort();
  };
}
