// Security admin: every store with its MSN, chain, API flavour, frozen flag, limits and the version
// and age of its keys (warned past CREDENTIALS_MAX_AGE); enrol a new store.
import { json } from '../api.js';
import { badge, decimal, errorBox, field, fill, formValues, h, input, minorUnits, select, table, warnBox } from '../ui.js';

export function render(main, { go }) {
  const controller = new AbortController();
  const list = h('div', { id: 'store-list' }, h('p', { class: 'loading' }, 'Loading stores…'));
  const messages = h('div', { id: 'store-messages' });
  const form = newStoreForm(messages, controller, go);
  const toggle = h('button', { type: 'button', id: 'new-store', onclick: () => { form.hidden = !form.hidden; if (!form.hidden) form.querySelector('input').focus(); } }, 'New store');
  form.hidden = true;
  fill(main, h('div', { class: 'actions' }, h('h1', {}, 'Stores'), toggle), form, messages, list);
  load(list, messages, controller.signal);
  return () => controller.abort();
}

async function load(list, messages, signal) {
  try {
    const [stores, ages] = await Promise.all([
      json('/v1/admin/stores', { signal }),
      json('/v1/admin/credentials', { signal }),
    ]);
    const byStore = new Map(ages.stores.map((a) => [a.storeId, a]));
    const maxDays = Math.round(ages.maxAgeSeconds / 86400);
    const stale = ages.stores.filter((a) => a.stale);
    if (stale.length) {
      messages.append(warnBox(`${stale.length} store${stale.length === 1 ? ' has keys' : 's have keys'} older than ${maxDays} days (CREDENTIALS_MAX_AGE): ${stale.map((a) => a.storeId).join(', ')}. Rotate them.`));
    }
    if (stores.stores.length === 0) {
      fill(list, h('p', { class: 'muted', id: 'no-stores' }, 'No store enrolled yet.'));
      return;
    }
    fill(list, table(
      [{ label: 'Store' }, { label: 'MSN' }, { label: 'Chain' }, { label: 'API' }, { label: 'State' }, { label: 'Limits' }, { label: 'Keys' }],
      stores.stores.map((s) => {
        const age = byStore.get(s.storeId);
        return h('tr', { 'data-store-id': s.storeId },
          h('td', {}, h('a', { href: `#/store/${encodeURIComponent(s.storeId)}` }, s.name), h('div', { class: 'small muted' }, s.storeId)),
          h('td', {}, h('code', {}, s.msn)),
          h('td', {}, s.chainId),
          h('td', {}, s.api),
          h('td', {}, s.frozen ? badge('FROZEN', 'frozen') : badge('active', 'ok')),
          h('td', { class: 'small' }, limits(s.limits)),
          h('td', { class: 'keys' }, keys(age, maxDays)));
      }),
      { id: 'store-table' }));
  } catch (e) {
    if (e.name !== 'AbortError') fill(list, errorBox(e, 'Stores could not be read'));
  }
}

export function limits(l) {
  if (!l) return 'none';
  const parts = [];
  if (l.perRefund) parts.push(`${l.currency} ${decimal(l.perRefund, l.currency)} per refund`);
  if (l.perDay) parts.push(`${l.currency} ${decimal(l.perDay, l.currency)} per day`);
  return parts.length ? parts.join(', ') : 'none';
}

export function keys(age, maxDays) {
  if (!age || age.currentVersion === 0) return badge('no keys', 'warn');
  const days = age.ageSeconds === undefined ? null : Math.floor(age.ageSeconds / 86400);
  return h('span', {},
    h('span', { class: 'key-version' }, `v${age.currentVersion}`),
    days === null ? '' : ` · ${days} d`,
    age.stale ? [' ', badge(`older than ${maxDays} d`, 'warn')] : null,
    age.validated === false ? [' ', badge('unproved', 'warn')] : null);
}

function newStoreForm(messages, controller, go) {
  const form = h('form', { class: 'grid card', id: 'store-form', autocomplete: 'off' },
    field('Store id', input('storeId', { required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}', placeholder: 'oslo-sentrum' })),
    field('Name', input('name', { required: true, maxlength: 200 })),
    field('MSN', input('msn', { required: true, pattern: '[0-9]{4,7}', inputmode: 'numeric' })),
    field('Chain', input('chainId', { required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}' })),
    field('Vipps API', select('api', [['epayment', 'ePayment'], ['ecom', 'eCom v2']])),
    field('Order-id prefix', input('orderIdPrefix', { placeholder: 'optional' })),
    field('Limit currency', select('limitCurrency', [['', 'no limits'], 'NOK', 'DKK', 'EUR'])),
    field('Per refund', input('perRefund', { placeholder: 'e.g. 5000.00', inputmode: 'decimal' })),
    field('Per day', input('perDay', { placeholder: 'e.g. 20000.00', inputmode: 'decimal' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'create-store' }, 'Create store')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    fill(messages);
    const v = formValues(form);
    const body = { storeId: v.storeId, name: v.name, msn: v.msn, chainId: v.chainId, api: v.api };
    if (v.orderIdPrefix) body.orderIdPrefix = v.orderIdPrefix;
    try {
      const l = limitsFrom(v);
      if (l) body.limits = l;
      await json('/v1/admin/stores', { method: 'POST', body, signal: controller.signal });
      go('store', v.storeId);
    } catch (e) {
      if (e.name !== 'AbortError') messages.append(errorBox(e, 'The store was not created'));
    }
  });
  return form;
}

/** Limits from form fields limitCurrency/perRefund/perDay; null for none; throws on bad amounts. */
export function limitsFrom(v) {
  if (!v.limitCurrency) return null;
  const l = { currency: v.limitCurrency };
  for (const key of ['perRefund', 'perDay']) {
    if (!v[key]) continue;
    const minor = minorUnits(v[key], v.limitCurrency);
    if (minor === null || minor < 1) throw new Error(`"${v[key]}" is not an amount (write e.g. 5000.00).`);
    l[key] = minor;
  }
  return l;
}
