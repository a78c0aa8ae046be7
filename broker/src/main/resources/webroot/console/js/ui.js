// DOM helpers. Text always goes in as text nodes (never innerHTML), so nothing the API returns can
// run as markup.

/** Creates an element: h('td', {class: 'num'}, 'text', child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the content of {@code el}. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form field around {@code control}. */
export function field(label, control, hint) {
  return h('label', { class: 'field' }, label, control, hint ? h('span', { class: 'small' }, hint) : null);
}

export function input(name, attrs = {}) {
  return h('input', { name, id: attrs.id || name, autocomplete: 'off', ...attrs });
}

export function select(name, options, attrs = {}) {
  return h('select', { name, id: attrs.id || name, ...attrs },
    options.map((o) => (Array.isArray(o) ? h('option', { value: o[0] }, o[1]) : h('option', { value: o }, o || 'any'))));
}

/** An error from the API (or the network) as a visible alert with its problem detail. */
export function errorBox(error, context) {
  const p = error && error.problem ? error.problem : null;
  const title = p ? p.title || `HTTP ${error.status}` : 'Something went wrong';
  const detail = p ? p.detail || '' : (error && error.message) || String(error);
  const meta = p && (p.code || p.requestId)
    ? h('span', { class: 'meta' }, [p.code, p.requestId ? `request ${p.requestId}` : null].filter(Boolean).join(' · '))
    : null;
  return h('div', { class: 'alert error', role: 'alert' },
    h('strong', {}, context ? `${context}: ` : '', title), detail ? ` — ${detail}` : '', meta);
}

export function okBox(text) {
  return h('div', { class: 'alert ok', role: 'status' }, text);
}

export function warnBox(text) {
  return h('div', { class: 'alert warn', role: 'status' }, text);
}

export function badge(text, kind) {
  return h('span', { class: `badge ${kind || text}` }, text);
}

const DECIMALS = { NOK: 2, DKK: 2, EUR: 2 };

/** {value: 15000, currency: 'NOK'} → 'NOK 150.00'. */
export function money(m) {
  if (!m) return '';
  return `${m.currency} ${decimal(m.value, m.currency)}`;
}

export function decimal(value, currency) {
  const d = DECIMALS[currency] ?? 2;
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(Number(value));
  const whole = Math.floor(abs / 10 ** d);
  const frac = String(abs % 10 ** d).padStart(d, '0');
  return d ? `${sign}${whole}.${frac}` : `${sign}${whole}`;
}

/** '150', '150.5', '150,50' → 15050 minor units; null when not an amount. */
export function minorUnits(text, currency) {
  const d = DECIMALS[currency] ?? 2;
  const m = String(text || '').trim().replace(',', '.').match(/^(\d{1,9})(?:\.(\d{1,2}))?$/);
  if (!m) return null;
  return Number(m[1]) * 10 ** d + Number((m[2] || '').padEnd(d, '0') || 0);
}

/** An RFC 3339 instant as 'YYYY-MM-DD HH:MM:SSZ' (UTC, as the auditors' exports are). */
export function when(instant) {
  if (!instant) return '';
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return instant;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** Asks before a consequential action; resolves true when confirmed. */
export function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = 'cancel';
    dialog.showModal();
  });
}

/**
 * A long operation's progress with a Cancel button: returns {el, update(text), done()} and calls
 * {@code onCancel} when cancelled.
 */
export function progress(label, onCancel) {
  const text = h('span', { class: 'progress-text' }, label);
  const started = Date.now();
  const cancel = h('button', { type: 'button', class: 'secondary', id: 'cancel-operation' }, 'Cancel');
  const el = h('div', { class: 'progress', role: 'status' }, h('span', { class: 'spinner' }), text, cancel);
  let detail = '';
  const tick = () => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    text.textContent = `${label}${detail ? ` — ${detail}` : ''} (${seconds} s)`;
  };
  const timer = setInterval(tick, 1000);
  cancel.addEventListener('click', () => { clearInterval(timer); el.remove(); onCancel(); });
  return {
    el,
    update(value) { detail = value; tick(); },
    done() { clearInterval(timer); el.remove(); },
  };
}

/** A table: columns [{label, num?}], rows of cell arrays. */
export function table(columns, rows, attrs = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', attrs,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : null }, c.label)))),
      h('tbody', {}, rows)));
}

export function formValues(form) {
  const values = {};
  for (const [key, value] of new FormData(form).entries()) values[key] = String(value).trim();
  return values;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function utcToday() {
  return new Date().toISOString().slice(0, 10);
}
