// Auditor: browse the audit events, filtered by action and subject (scanned page by page from a
// seq, since the API pages by seq); details as formatted JSON.
import { json, query } from '../api.js';
import { errorBox, field, fill, formValues, h, input, progress, table, when } from '../ui.js';

const ACTIONS = ['refund.requested', 'refund.succeeded', 'refund.failed', 'refund.unknown',
  'refund.pending', 'store.created', 'store.updated', 'store.frozen', 'store.unfrozen',
  'credential.rotated', 'credential.rolled_back', 'client.bootstrapped', 'client.issued',
  'client.revoked', 'order.registered', 'order.imported', 'audit.read'];
const WANTED = 100;

export function render(main) {
  let scan = null;
  let next = 0;
  let filters = {};
  const form = h('form', { class: 'grid card', id: 'event-filters', autocomplete: 'off' },
    field('Action', input('action', { list: 'known-actions', placeholder: 'any' })),
    h('datalist', { id: 'known-actions' }, ACTIONS.map((a) => h('option', { value: a }))),
    field('Subject type', input('subjectType', { placeholder: 'store, refund, client …' })),
    field('Subject id', input('subjectId')),
    field('After seq', input('afterSeq', { value: '0', inputmode: 'numeric', pattern: '[0-9]+' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'search-events' }, 'Search')));
  const status = h('div', { id: 'event-status' });
  const rows = h('tbody', {});
  const list = h('div', { id: 'event-list' });
  const more = h('div', { class: 'pager' });
  fill(main, h('h1', {}, 'Audit events'), form, status, list, more);

  const matches = (e) => (!filters.action || e.action === filters.action)
    && (!filters.subjectType || (e.subject && e.subject.type === filters.subjectType))
    && (!filters.subjectId || (e.subject && e.subject.id === filters.subjectId));

  async function run() {
    if (scan) scan.abort();
    scan = new AbortController();
    const mine = scan;
    const shown = progress('Scanning events', () => mine.abort());
    fill(status, shown.el);
    fill(more);
    let found = 0;
    try {
      let done = false;
      while (found < WANTED && !done) {
        const page = await json(`/v1/audit/events${query({ afterSeq: next, limit: 1000 })}`, { signal: mine.signal });
        for (const event of page.events) {
          next = event.seq;
          if (matches(event) && found < WANTED) {
            rows.append(row(event));
            found += 1;
          }
          if (found >= WANTED) break;
        }
        shown.update(`up to seq ${next}, ${rows.childElementCount} shown`);
        done = page.nextAfterSeq === undefined && found < WANTED;
      }
      shown.done();
      fill(status, rows.childElementCount === 0 ? h('p', { class: 'muted', id: 'no-events' }, 'No matching event.') : null);
      if (!done) {
        fill(more, h('button', { type: 'button', class: 'secondary', id: 'more-events', onclick: run }, `Load more (after seq ${next})`));
      }
    } catch (e) {
      shown.done();
      fill(status, e.name === 'AbortError'
        ? h('div', { class: 'alert warn', role: 'status' }, `Stopped at seq ${next}.`)
        : errorBox(e, 'Events could not be read'));
      if (e.name === 'AbortError') {
        fill(more, h('button', { type: 'button', class: 'secondary', id: 'more-events', onclick: run }, `Continue after seq ${next}`));
      }
    } finally {
      if (scan === mine) scan = null;
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = formValues(form);
    filters = { action: v.action, subjectType: v.subjectType, subjectId: v.subjectId };
    next = Number.parseInt(v.afterSeq || '0', 10) || 0;
    rows.replaceChildren();
    fill(list, table([{ label: 'Seq', num: true }, { label: 'When (UTC)' }, { label: 'Action' }, { label: 'Actor' }, { label: 'Subject' }, { label: 'Outcome' }, { label: 'Details' }], [], { id: 'event-table' }));
    list.querySelector('tbody').replaceWith(rows);
    run();
  });
  form.requestSubmit();
  return () => { if (scan) scan.abort(); };
}

function row(e) {
  const actor = e.actor || {};
  return h('tr', { 'data-seq': e.seq },
    h('td', { class: 'num' }, e.seq),
    h('td', {}, when(e.occurredAt)),
    h('td', {}, h('code', {}, e.action)),
    h('td', {}, actor.role || '', h('div', { class: 'small muted' }, [actor.clientId, actor.storeId].filter(Boolean).join(' · '))),
    h('td', {}, e.subject ? `${e.subject.type} ${e.subject.id}` : ''),
    h('td', {}, e.outcome),
    h('td', {}, h('details', {}, h('summary', {}, 'details'),
      h('pre', { class: 'json' }, JSON.stringify({ ...e, details: e.details }, null, 2)))));
}
