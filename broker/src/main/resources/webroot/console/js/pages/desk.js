// Store desk (a STORE token), for shops whose till has no integration yet: find an order of the
// chain (search by receipt digits, amount and day, or look its id up), see what is refundable,
// refund part of it with a reason, and follow the refund until it settles.
// The page makes the Idempotency-Key for each intended refund and reuses it when retrying.
import { ApiError, json, query } from '../api.js';
import { session } from '../session.js';
import { badge, errorBox, field, fill, h, input, minorUnits, money, okBox, table, when } from '../ui.js';

const FINAL = ['SUCCEEDED', 'FAILED'];
const RETRYABLE = (e) => !(e instanceof ApiError) || e.status === 0 || e.status >= 500
  || e.code === 'REQUEST_IN_FLIGHT' || e.status === 429;

export function render(main) {
  const controller = new AbortController();
  const signal = controller.signal;
  let poll = null;
  let order = null;
  let attempt = null; // {intent: JSON of the refund body, key}

  const search = h('form', { class: 'grid card', id: 'search-form', autocomplete: 'off' },
    field('Receipt digits', input('q', { id: 'search-q', minlength: 4, maxlength: 50, pattern: '[A-Za-z0-9\\-]{4,50}', placeholder: 'at least 4, e.g. 1234' })),
    field('Amount', input('amount', { id: 'search-amount', inputmode: 'decimal', placeholder: 'e.g. 499.00' })),
    field('Day paid', input('day', { id: 'search-day', type: 'date' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'search' }, 'Search')));
  const results = h('div', { id: 'search-results' });
  const lookup = h('form', { class: 'grid card', id: 'lookup-form', autocomplete: 'off' },
    field('Order id', input('orderId', { required: true, pattern: '[A-Za-z0-9\\-]{1,50}', placeholder: 'from the receipt' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'lookup' }, 'Look up')));
  const orderArea = h('div', { id: 'order' });
  const refundArea = h('div', { id: 'refund-area' });
  const status = h('div', { id: 'refund-status' });
  const history = h('div', { id: 'order-refunds' });
  const me = session.me();
  fill(main, h('h1', {}, 'Store desk'),
    h('p', { class: 'muted small' }, `Refunds for ${me.storeId}, for orders paid in any store of the chain.`),
    h('h2', {}, 'Find the order'), search, results,
    h('p', { class: 'muted small' }, 'Or look up the full order id:'),
    lookup, orderArea, refundArea, status, history);

  search.addEventListener('submit', (event) => {
    event.preventDefault();
    const filters = searchFilters();
    if (filters) searchOrders(filters, null);
  });

  lookup.addEventListener('submit', (event) => {
    event.preventDefault();
    find(lookup.elements.orderId.value.trim());
  });

  /** The search form as query parameters, or null (with the reason shown) when it is not usable. */
  function searchFilters() {
    const q = search.elements.q.value.trim();
    const amountText = search.elements.amount.value.trim();
    const day = search.elements.day.value;
    const filters = {};
    if (q) filters.q = q;
    if (amountText) {
      const value = minorUnits(amountText, 'NOK');
      if (value === null || value < 1) {
        fill(results, errorBox(new Error(`"${amountText}" is not an amount; write e.g. 499.00.`)));
        return null;
      }
      filters.amount = value;
    }
    if (day) {
      // The day as the cashier's own calendar day (the browser's time zone).
      const [y, m, d] = day.split('-').map(Number);
      filters.from = new Date(y, m - 1, d).toISOString();
      filters.to = new Date(y, m - 1, d + 1).toISOString();
    }
    if (Object.keys(filters).length === 0) {
      fill(results, errorBox(new Error('Type receipt digits, an amount or a day to search for.')));
      return null;
    }
    return filters;
  }

  /** One page of hits; the first page replaces the list, "More" appends the next. */
  async function searchOrders(filters, cursor) {
    const more = results.querySelector('#search-more');
    if (more) more.remove();
    if (!cursor) fill(results, h('p', { class: 'loading' }, 'Searching…'));
    try {
      const page = await json(`/v1/orders${query({ ...filters, cursor })}`, { signal });
      let body = results.querySelector('#search-table tbody');
      if (!cursor || !body) {
        if (page.orders.length === 0) {
          fill(results, h('p', { class: 'muted', id: 'search-none' }, 'No order of the chain matches.'));
          return;
        }
        fill(results, table([{ label: 'Paid (UTC)' }, { label: 'Order id' }, { label: 'Paid in' }, { label: 'Captured', num: true },
          { label: 'Refunded here', num: true }, { label: 'In flight', num: true }, { label: '' }], [], { id: 'search-table' }));
        body = results.querySelector('#search-table tbody');
      }
      for (const hit of page.orders) body.append(hitRow(hit));
      if (page.nextCursor) {
        results.append(h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', id: 'search-more', onclick: () => searchOrders(filters, page.nextCursor) }, 'More')));
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(results, errorBox(e, 'Search failed'));
    }
  }

  function hitRow(hit) {
    return h('tr', { 'data-order-id': hit.orderId, 'data-store-id': hit.originStoreId },
      h('td', {}, hit.capturedAt ? when(hit.capturedAt) : '—'),
      h('td', {}, h('code', {}, hit.orderId)),
      h('td', {}, `${hit.originStoreName} (${hit.originStoreId})`),
      h('td', { class: 'num' }, money(hit.captured)),
      h('td', { class: 'num' }, money(hit.refundedHere)),
      h('td', { class: 'num' }, money(hit.inFlight)),
      h('td', {}, h('button', { type: 'button', class: 'secondary pick', onclick: () => pick(hit) }, 'Refund…')));
  }

  function pick(hit) {
    lookup.elements.orderId.value = hit.orderId;
    find(hit.orderId, hit.originStoreId).then(() => orderArea.scrollIntoView({ block: 'start' }));
  }

  async function find(orderId, originStoreId) {
    stopPolling();
    attempt = null;
    fill(refundArea);
    fill(status);
    fill(history);
    fill(orderArea, h('p', { class: 'loading' }, 'Looking the order up…'));
    try {
      order = await json(`/v1/orders/${encodeURIComponent(orderId)}${query({ originStoreId })}`, { signal });
      showOrder();
      showRefundForm();
      loadHistory();
    } catch (e) {
      if (e.name === 'AbortError') return;
      order = null;
      if (e.code === 'ORDER_AMBIGUOUS' && Array.isArray(e.problem.candidates)) {
        fill(orderArea, errorBox(e, 'Several stores have this order id'),
          h('div', { class: 'actions', id: 'candidates' }, e.problem.candidates.map((c) => {
            const id = typeof c === 'string' ? c : c.storeId;
            const name = typeof c === 'string' ? c : `${c.name || c.storeId} (${c.storeId})`;
            return h('button', { type: 'button', class: 'secondary', onclick: () => find(orderId, id) }, name);
          })));
      } else {
        fill(orderArea, errorBox(e, 'Order not found'));
      }
    }
  }

  function showOrder() {
    fill(orderArea, h('div', { class: 'card', id: 'order-card' },
      h('h2', {}, `Order ${order.orderId}`),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Paid in'), h('dd', { id: 'order-origin' }, `${order.originStoreName} (${order.originStoreId})`),
        h('dt', {}, 'Captured'), h('dd', {}, money(order.captured)),
        h('dt', {}, 'Refunded'), h('dd', {}, money(order.refunded)),
        h('dt', {}, 'In flight'), h('dd', {}, money(order.inFlight)),
        h('dt', {}, 'Refundable'), h('dd', { id: 'order-refundable' }, h('strong', {}, money(order.refundable))),
        h('dt', {}, 'Refundable until'), h('dd', {}, order.refundableUntil ? when(order.refundableUntil) : '—'))));
  }

  function showRefundForm() {
    const amount = input('amount', { required: true, inputmode: 'decimal', placeholder: `max ${money(order.refundable)}` });
    const reason = input('reason', { required: true, maxlength: 100, placeholder: 'e.g. Returned scarf' });
    const form = h('form', { class: 'grid card', id: 'refund-form', autocomplete: 'off' },
      field(`Amount (${order.currency})`, amount),
      field('Reason (shown to the customer)', reason),
      h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'refund-submit' }, 'Refund')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = minorUnits(amount.value, order.currency);
      if (value === null || value < 1) {
        fill(status, errorBox(new Error(`"${amount.value}" is not an amount; write e.g. 150.00.`)));
        return;
      }
      const body = { orderId: order.orderId, amount: { value, currency: order.currency }, reason: reason.value.trim(), originStoreId: order.originStoreId };
      submit(body);
    });
    fill(refundArea, form);
  }

  async function submit(body) {
    const intent = JSON.stringify(body);
    if (!attempt || attempt.intent !== intent) attempt = { intent, key: newKey() };
    const button = refundArea.querySelector('#refund-submit');
    if (button) button.disabled = true;
    fill(status, h('p', { class: 'loading' }, 'Sending the refund…'));
    try {
      const refund = await json('/v1/refunds', { method: 'POST', body, headers: { 'Idempotency-Key': attempt.key }, signal });
      showRefund(refund);
      if (!FINAL.includes(refund.status)) follow(refund.refundId);
      else settled();
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (RETRYABLE(e)) {
        fill(status, errorBox(e, 'The refund may not have gone through'),
          h('div', { class: 'actions' }, h('button', { type: 'button', id: 'refund-retry', onclick: () => submit(body) }, 'Retry (same refund, no double refund)')));
      } else {
        attempt = null;
        fill(status, errorBox(e, 'Not refunded'));
      }
    } finally {
      if (button) button.disabled = false;
    }
  }

  function showRefund(refund) {
    fill(status, h('div', { class: 'card', id: 'refund-card', 'data-status': refund.status },
      h('h2', {}, 'Refund ', badge(refund.status)),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Amount'), h('dd', {}, money(refund.amount)),
        h('dt', {}, 'Reason'), h('dd', {}, refund.reason),
        h('dt', {}, 'Refund id'), h('dd', {}, h('code', { id: 'refund-id' }, refund.refundId)),
        h('dt', {}, 'Status'), h('dd', { id: 'refund-state' }, refund.status),
        refund.completedAt ? [h('dt', {}, 'Completed'), h('dd', {}, when(refund.completedAt))] : null,
        refund.failure ? [h('dt', {}, 'Why'), h('dd', {}, `${refund.failure.code || ''} ${refund.failure.detail || ''}`)] : null),
      FINAL.includes(refund.status) ? null : h('p', { class: 'small muted' }, 'Vipps has not confirmed it yet; the broker finds out and this page follows it.')));
  }

  function follow(refundId) {
    stopPolling();
    const tick = async () => {
      try {
        const refund = await json(`/v1/refunds/${encodeURIComponent(refundId)}`, { signal });
        showRefund(refund);
        if (FINAL.includes(refund.status)) {
          poll = null;
          settled();
          return;
        }
      } catch (e) {
        if (e.name === 'AbortError') return;
        status.append(errorBox(e, 'Status not read; trying again'));
      }
      poll = setTimeout(tick, 2000);
    };
    poll = setTimeout(tick, 1000);
  }

  function settled() {
    attempt = null;
    const form = refundArea.querySelector('#refund-form');
    if (form) form.reset();
    status.append(okBox('Settled. Look the order up again for another refund.'));
    refreshOrder();
  }

  async function refreshOrder() {
    try {
      order = await json(`/v1/orders/${encodeURIComponent(order.orderId)}${query({ originStoreId: order.originStoreId })}`, { signal });
      showOrder();
      const amount = refundArea.querySelector('#amount');
      if (amount) amount.placeholder = `max ${money(order.refundable)}`;
      loadHistory();
    } catch (e) {
      if (e.name !== 'AbortError') orderArea.append(errorBox(e, 'Order not refreshed'));
    }
  }

  async function loadHistory() {
    try {
      const answer = await json(`/v1/refunds${query({ orderId: order.orderId })}`, { signal });
      fill(history, answer.refunds.length === 0 ? null : [h('h2', {}, 'Refunds of this order'),
        table([{ label: 'When (UTC)' }, { label: 'Status' }, { label: 'Amount', num: true }, { label: 'Requested by' }, { label: 'Reason' }],
          answer.refunds.map((r) => h('tr', {}, h('td', {}, when(r.createdAt)), h('td', {}, badge(r.status)), h('td', { class: 'num' }, money(r.amount)), h('td', {}, r.requestingStoreId), h('td', {}, r.reason))),
          { id: 'order-refund-table' })]);
    } catch (e) {
      if (e.name !== 'AbortError') fill(history, errorBox(e, 'Refunds of this order could not be read'));
    }
  }

  function stopPolling() {
    if (poll) clearTimeout(poll);
    poll = null;
  }

  return () => {
    stopPolling();
    controller.abort();
  };
}

/** A fresh Idempotency-Key (random, printable ASCII as the contract asks). */
function newKey() {
  if (window.crypto && typeof window.crypto.randomUUID === 'function') return `desk-${window.crypto.randomUUID()}`;
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return `desk-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
