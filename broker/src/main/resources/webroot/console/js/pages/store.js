// Security admin: one store — edit, freeze/unfreeze (confirmed), its key versions (who, when,
// proved), rotate (write-only fields, cleared as soon as they are sent) and roll back (confirmed).
import { json } from '../api.js';
import {
  badge, confirmAction, decimal, errorBox, field, fill, formValues, h, input, okBox, select, table, when,
} from '../ui.js';
import { keys, limits, limitsFrom } from './stores.js';

export function render(main, { arg }) {
  const controller = new AbortController();
  const storeId = arg;
  const head = h('div', { id: 'store-head' }, h('p', { class: 'loading' }, 'Loading…'));
  const messages = h('div', { id: 'store-messages' });
  const edit = h('section', { id: 'store-edit' });
  const creds = h('section', { id: 'credentials' });
  fill(main, h('p', { class: 'small' }, h('a', { href: '#/stores' }, '← All stores')), head, messages, h('div', { class: 'cols' }, edit, creds));
  const signal = controller.signal;
  const path = `/v1/admin/stores/${encodeURIComponent(storeId)}`;

  const say = (node) => fill(messages, node);

  async function loadStore() {
    try {
      const store = await json(path, { signal });
      showStore(store);
    } catch (e) {
      if (e.name !== 'AbortError') fill(head, errorBox(e, `Store ${storeId} could not be read`));
    }
  }

  function showStore(store) {
    const freeze = h('button', {
      type: 'button', id: store.frozen ? 'unfreeze' : 'freeze', class: store.frozen ? 'secondary' : 'danger',
      onclick: async () => {
        const question = store.frozen
          ? `Unfreeze ${store.name}? Its payments can be refunded through the broker again.`
          : `Freeze ${store.name}? No payment taken in this store can be refunded through the broker until it is unfrozen.`;
        if (!(await confirmAction(question))) return;
        try {
          const updated = await json(path, { method: 'PATCH', body: { frozen: !store.frozen }, signal });
          say(okBox(updated.frozen ? `${updated.name} is frozen.` : `${updated.name} is active again.`));
          showStore(updated);
        } catch (e) {
          if (e.name !== 'AbortError') say(errorBox(e, 'Not changed'));
        }
      },
    }, store.frozen ? 'Unfreeze' : 'Freeze');
    fill(head,
      h('div', { class: 'actions' }, h('h1', {}, store.name), store.frozen ? badge('FROZEN', 'frozen') : badge('active', 'ok'), freeze),
      h('dl', { class: 'kv card' },
        h('dt', {}, 'Store id'), h('dd', {}, h('code', {}, store.storeId)),
        h('dt', {}, 'MSN'), h('dd', {}, h('code', { id: 'store-msn' }, store.msn)),
        h('dt', {}, 'Chain'), h('dd', {}, store.chainId),
        h('dt', {}, 'Vipps API'), h('dd', {}, store.api),
        h('dt', {}, 'Order-id prefix'), h('dd', {}, store.orderIdPrefix || '—'),
        h('dt', {}, 'Limits'), h('dd', {}, limits(store.limits)),
        h('dt', {}, 'Updated'), h('dd', {}, when(store.updatedAt))));
    showEdit(store);
  }

  function showEdit(store) {
    const l = store.limits || {};
    const form = h('form', { class: 'grid card', id: 'edit-form', autocomplete: 'off' },
      field('Name', input('name', { required: true, value: store.name, maxlength: 200 })),
      field('Vipps API', select('api', [['epayment', 'ePayment'], ['ecom', 'eCom v2']])),
      field('Order-id prefix', input('orderIdPrefix', { value: store.orderIdPrefix || '', placeholder: 'none' })),
      field('Limit currency', select('limitCurrency', [['', 'no limits'], 'NOK', 'DKK', 'EUR'])),
      field('Per refund', input('perRefund', { value: l.perRefund ? decimal(l.perRefund, l.currency) : '', inputmode: 'decimal' })),
      field('Per day', input('perDay', { value: l.perDay ? decimal(l.perDay, l.currency) : '', inputmode: 'decimal' })),
      h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'save-store' }, 'Save changes')));
    form.elements.api.value = store.api;
    form.elements.limitCurrency.value = l.currency || '';
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const v = formValues(form);
      try {
        const body = { name: v.name, api: v.api, orderIdPrefix: v.orderIdPrefix || null, limits: limitsFrom(v) };
        const updated = await json(path, { method: 'PATCH', body, signal });
        say(okBox(`Saved ${updated.name}.`));
        showStore(updated);
      } catch (e) {
        if (e.name !== 'AbortError') say(errorBox(e, 'Not saved'));
      }
    });
    fill(edit, h('h2', {}, 'Settings'), form);
  }

  async function loadCredentials() {
    try {
      const [history, ages] = await Promise.all([
        json(`${path}/credentials`, { signal }),
        json('/v1/admin/credentials', { signal }),
      ]);
      const age = ages.stores.find((a) => a.storeId === storeId);
      showCredentials(history, age, Math.round(ages.maxAgeSeconds / 86400));
    } catch (e) {
      if (e.name !== 'AbortError') fill(creds, h('h2', {}, 'Vipps keys'), errorBox(e, 'Key versions could not be read'));
    }
  }

  function showCredentials(history, age, maxDays) {
    const rows = [...history.versions].reverse().map((v) => h('tr', { 'data-version': v.version },
      h('td', { class: 'num' }, `v${v.version}`, v.version === history.currentVersion ? [' ', badge('current', 'ok')] : null),
      h('td', {}, when(v.createdAt), h('div', { class: 'small muted' }, v.rotatedBy || '')),
      h('td', {}, v.validated ? `proved ${when(v.validatedAt)}` : badge('unproved', 'warn'),
        v.restoredVersion ? h('div', { class: 'small muted' }, `restored v${v.restoredVersion}`) : null,
        v.deleted ? [' ', badge('deleted', 'bad')] : null),
      h('td', {}, v.version !== history.currentVersion && !v.deleted
        ? h('button', { type: 'button', class: 'secondary', id: `rollback-${v.version}`, onclick: () => rollback(v.version) }, `Roll back to v${v.version}`)
        : null)));
    fill(creds,
      h('h2', {}, 'Vipps keys'),
      h('p', { id: 'current-version' }, 'Current: ', keys(age, maxDays), ` · backend ${history.backend}`),
      history.versions.length
        ? table([{ label: 'Version', num: true }, { label: 'Written' }, { label: 'Proved' }, { label: '' }], rows, { id: 'version-table' })
        : h('p', { class: 'muted' }, 'No keys stored yet.'),
      rotateForm());
  }

  function rotateForm() {
    // Write-only: no value is ever put into these fields, and they are emptied the moment the
    // request is sent, whatever its outcome.
    const secretInput = (name, label) => field(label, h('input', {
      type: 'password', name, id: name, autocomplete: 'off', required: true, spellcheck: 'false', 'data-lpignore': 'true',
    }));
    const form = h('form', { class: 'card', id: 'rotate-form', autocomplete: 'off' },
      h('h2', {}, 'Rotate keys'),
      h('p', { class: 'small muted' }, 'New keys from the Vipps portal. They are proved with Vipps, stored as a new version and never shown again.'),
      h('div', { class: 'grid' },
        field('Client id', h('input', { type: 'text', name: 'clientId', id: 'clientId', autocomplete: 'off', required: true, spellcheck: 'false' })),
        secretInput('clientSecret', 'Client secret'),
        secretInput('subscriptionKey', 'Subscription key (Ocp-Apim)')),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'validate', id: 'validate', checked: true }), 'Prove the keys with Vipps first'),
      h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'rotate-submit' }, 'Rotate')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const e = form.elements;
      const body = { clientId: e.clientId.value.trim(), clientSecret: e.clientSecret.value, subscriptionKey: e.subscriptionKey.value };
      const validate = e.validate.checked;
      form.reset();
      e.clientSecret.value = '';
      e.subscriptionKey.value = '';
      try {
        const rotation = await json(`${path}/credentials?validate=${validate}`, { method: 'PUT', body, signal });
        say(okBox(`Stored as version ${rotation.version} (was ${rotation.previousVersion})${rotation.validated ? ', proved with Vipps' : ', not proved'}.`));
        loadCredentials();
      } catch (err) {
        if (err.name !== 'AbortError') say(errorBox(err, 'Keys not rotated'));
      }
    });
    return form;
  }

  async function rollback(version) {
    if (!(await confirmAction(`Roll back to version ${version}? Its keys are proved with Vipps and written as a new version.`))) return;
    try {
      const rotation = await json(`${path}/credentials/rollback`, { method: 'POST', body: { version }, signal });
      say(okBox(`Rolled back: version ${rotation.version} now holds the keys of version ${rotation.restoredVersion}.`));
      loadCredentials();
    } catch (e) {
      if (e.name !== 'AbortError') say(errorBox(e, 'Not rolled back'));
    }
  }

  loadStore();
  loadCredentials();
  return () => controller.abort();
}
