// Security admin: API clients — list, issue (the token is shown once, with a copy button, and
// removed from the page when dismissed), revoke (confirmed).
import { json } from '../api.js';
import { badge, confirmAction, errorBox, field, fill, formValues, h, input, okBox, select, table, when } from '../ui.js';

export function render(main) {
  const controller = new AbortController();
  const signal = controller.signal;
  const messages = h('div', { id: 'client-messages' });
  const issued = h('div', { id: 'issued' });
  const list = h('div', { id: 'client-list' }, h('p', { class: 'loading' }, 'Loading clients…'));
  const storeChoice = select('storeId', [['', 'choose a store']]);
  const storeField = field('Store', storeChoice);
  const role = select('role', ['STORE', 'AUDITOR', 'ADMIN']);
  const form = h('form', { class: 'grid card', id: 'client-form', autocomplete: 'off' },
    field('Name', input('name', { required: true, maxlength: 200, placeholder: 'bergen-till-1' })),
    field('Role', role),
    storeField,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'issue-client' }, 'Issue token')));
  role.addEventListener('change', () => { storeField.hidden = role.value !== 'STORE'; });
  fill(main, h('h1', {}, 'Clients'), h('p', { class: 'muted small' }, 'POS tills (STORE), auditors and admins. A token is shown once, when it is issued; the broker keeps only its hash.'),
    form, issued, messages, list);

  async function load() {
    try {
      const answer = await json('/v1/admin/clients', { signal });
      const clients = [...answer.clients].sort((a, b) => (a.revokedAt ? 1 : 0) - (b.revokedAt ? 1 : 0) || b.createdAt.localeCompare(a.createdAt));
      fill(list, table(
        [{ label: 'Client' }, { label: 'Role' }, { label: 'Store' }, { label: 'Issued' }, { label: 'State' }, { label: '' }],
        clients.map((c) => h('tr', { 'data-client-id': c.clientId },
          h('td', {}, c.name, h('div', { class: 'small muted' }, h('code', {}, c.clientId))),
          h('td', {}, c.role),
          h('td', {}, c.storeId || ''),
          h('td', {}, when(c.createdAt), h('div', { class: 'small muted' }, `by ${c.createdBy}`)),
          h('td', {}, c.revokedAt ? badge(`revoked ${when(c.revokedAt)}`, 'bad') : badge('active', 'ok')),
          h('td', {}, c.revokedAt ? null : h('button', { type: 'button', class: 'danger', id: `revoke-${c.clientId}`, onclick: () => revoke(c) }, 'Revoke')))),
        { id: 'client-table' }));
    } catch (e) {
      if (e.name !== 'AbortError') fill(list, errorBox(e, 'Clients could not be read'));
    }
  }

  async function loadStores() {
    try {
      const answer = await json('/v1/admin/stores', { signal });
      answer.stores.forEach((s) => storeChoice.append(h('option', { value: s.storeId }, `${s.name} (${s.storeId})`)));
    } catch (e) {
      if (e.name !== 'AbortError') messages.append(errorBox(e, 'Stores could not be read'));
    }
  }

  async function revoke(client) {
    if (!(await confirmAction(`Revoke ${client.name} (${client.clientId})? Its token stops working at once.`))) return;
    try {
      await json(`/v1/admin/clients/${encodeURIComponent(client.clientId)}`, { method: 'DELETE', signal });
      fill(messages, okBox(`${client.name} is revoked.`));
      load();
    } catch (e) {
      if (e.name !== 'AbortError') fill(messages, errorBox(e, 'Not revoked'));
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    fill(messages);
    const v = formValues(form);
    const body = { name: v.name, role: v.role };
    if (v.role === 'STORE') body.storeId = v.storeId;
    try {
      const client = await json('/v1/admin/clients', { method: 'POST', body, signal });
      form.reset();
      storeField.hidden = false;
      showOnce(client);
      load();
    } catch (e) {
      if (e.name !== 'AbortError') messages.append(errorBox(e, 'No client issued'));
    }
  });

  function showOnce(client) {
    const code = h('code', { id: 'issued-token' }, client.token);
    const copied = h('span', { class: 'small', id: 'copy-state', role: 'status' });
    const copy = async () => {
      try {
        await navigator.clipboard.writeText(client.token);
        copied.textContent = 'Copied.';
      } catch {
        const range = document.createRange();
        range.selectNodeContents(code);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        copied.textContent = 'Selected: press Ctrl+C (or ⌘C) to copy.';
      }
    };
    fill(issued, h('div', { class: 'token-once', id: 'token-once' },
      h('strong', {}, `Token for ${client.role} client ${client.clientId}${client.storeId ? ` (${client.storeId})` : ''}`),
      h('p', { class: 'small' }, 'Copy it now and hand it over securely. It is shown only once; the broker cannot show it again.'),
      code,
      h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'copy-token', onclick: copy }, 'Copy'),
        h('button', { type: 'button', class: 'secondary', id: 'token-done', onclick: () => fill(issued) }, 'I have stored it'),
        copied)));
  }

  loadStores();
  load();
  return () => {
    controller.abort();
    fill(issued);
  };
}
