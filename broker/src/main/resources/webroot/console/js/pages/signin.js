// Sign-in: a token pasted once (ADMIN, AUDITOR or STORE), checked with GET /v1/me and kept in
// sessionStorage; or, where the broker asks for client certificates (mutual TLS), the certificate
// the browser presents. Each way is one entry of METHODS.
import { ApiError, json } from '../api.js';
import { session } from '../session.js';
import { errorBox, field, fill, h, okBox } from '../ui.js';

let pending = null;

/** A message for the next sign-in page (e.g. after sign-out). */
export function flash(message) {
  pending = message;
}

const METHODS = [
  {
    id: 'token',
    available: () => true,
    render(done) {
      const token = h('input', {
        type: 'password', name: 'token', id: 'token', autocomplete: 'off', spellcheck: 'false',
        required: true, placeholder: 'paste the token', 'aria-label': 'API token',
      });
      const form = h('form', { id: 'signin-form', class: 'card', autocomplete: 'off' },
        h('h2', {}, 'Sign in with a token'),
        h('p', { class: 'muted small' }, 'An ADMIN, AUDITOR or STORE token issued by a security admin. It is kept in this tab only and forgotten when you sign out or close the tab.'),
        field('API token', token),
        h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'signin-submit' }, 'Sign in')));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const value = token.value.trim();
        form.reset();
        done(() => json('/v1/me', { token: value }).then((me) => session.save('token', value, me)));
      });
      return form;
    },
  },
  {
    id: 'certificate',
    // A client certificate is only presented over TLS.
    available: () => location.protocol === 'https:',
    render(done) {
      return h('div', { class: 'card', id: 'signin-certificate' },
        h('h2', {}, 'Sign in with a client certificate'),
        h('p', { class: 'muted small' }, 'Uses the certificate your browser presents to the broker.'),
        h('button', {
          type: 'button', id: 'signin-certificate-submit',
          onclick: () => done(() => json('/v1/me', { token: null }).then((me) => session.save('certificate', null, me))),
        }, 'Sign in with certificate'));
    },
  },
];

export function render(main, { onSignedIn }) {
  const messages = h('div', { id: 'signin-messages' });
  if (pending) {
    messages.append(okBox(pending));
    pending = null;
  }
  const done = async (attempt) => {
    fill(messages);
    try {
      await attempt();
      onSignedIn();
    } catch (e) {
      const error = e instanceof ApiError && e.status === 401
        ? new ApiError(401, { ...e.problem, title: 'Sign-in failed' })
        : e;
      messages.append(errorBox(error));
    }
  };
  fill(main, h('section', { class: 'signin' },
    h('h1', {}, 'refund-broker console'),
    h('p', { class: 'muted' }, 'For security admins (stores, keys, clients), auditors (refund log, trail, clearing) and store desks (refunds for tills without an integration).'),
    messages,
    METHODS.filter((m) => m.available()).map((m) => m.render(done))));
  const first = main.querySelector('input');
  if (first) first.focus();
}
