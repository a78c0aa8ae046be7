// The console shell: sign-in, the pages each role may use, and a hash router (#/page/arg).
// A page a role may not use is neither offered in the navigation nor rendered; the API refuses
// it anyway, since the console holds no right the token does not have.
import { whenUnauthorized } from './api.js';
import { session } from './session.js';
import { errorBox, fill, h } from './ui.js';
import * as signin from './pages/signin.js';

export const PAGES = {
  refunds: { title: 'Refund log', roles: ['AUDITOR'], module: () => import('./pages/refunds.js') },
  trail: { title: 'Trail integrity', roles: ['AUDITOR'], module: () => import('./pages/trail.js') },
  clearing: { title: 'Clearing', roles: ['AUDITOR'], module: () => import('./pages/clearing.js') },
  charts: { title: 'Charts', roles: ['AUDITOR'], module: () => import('./pages/charts.js') },
  events: { title: 'Audit events', roles: ['AUDITOR'], module: () => import('./pages/events.js') },
  stores: { title: 'Stores', roles: ['ADMIN'], module: () => import('./pages/stores.js') },
  store: { title: 'Store', roles: ['ADMIN'], hidden: true, module: () => import('./pages/store.js') },
  clients: { title: 'Clients', roles: ['ADMIN'], module: () => import('./pages/clients.js') },
  desk: { title: 'Store desk', roles: ['STORE'], module: () => import('./pages/desk.js') },
};

const HOME = { AUDITOR: 'refunds', ADMIN: 'stores', STORE: 'desk' };

const main = document.getElementById('main');
let cleanup = null;
let generation = 0;

export function go(page, arg) {
  const target = `#/${page}${arg ? `/${encodeURIComponent(arg)}` : ''}`;
  if (location.hash === target) render();
  else location.hash = target;
}

export function signOut(message) {
  session.clear();
  signin.flash(message);
  go('signin');
}

function route() {
  const [page, arg] = location.hash.replace(/^#\/?/, '').split('/');
  return { page: page || '', arg: arg ? decodeURIComponent(arg) : undefined };
}

function renderNav(role, current) {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  if (!role) {
    fill(nav);
    fill(who);
    return;
  }
  fill(nav, Object.entries(PAGES)
    .filter(([, p]) => p.roles.includes(role) && !p.hidden)
    .map(([id, p]) => h('a', {
      href: `#/${id}`,
      id: `nav-${id}`,
      class: id === current || (current === 'store' && id === 'stores') ? 'active' : null,
    }, p.title)));
  const me = session.me();
  fill(who,
    h('span', { class: 'role', id: 'who-role' }, role),
    h('span', { class: 'name', id: 'who-name' }, me.storeId ? `${me.name} · ${me.storeId}` : me.name),
    h('button', { type: 'button', class: 'secondary', id: 'sign-out', onclick: () => signOut('Signed out.') }, 'Sign out'));
}

async function render() {
  const mine = ++generation;
  if (cleanup) {
    try { cleanup(); } catch { /* the old page is gone either way */ }
    cleanup = null;
  }
  const { page, arg } = route();
  const role = session.role();
  if (!role || page === 'signin') {
    renderNav(null);
    document.title = 'Sign in · refund-broker console';
    signin.render(main, { onSignedIn: () => go(HOME[session.role()]) });
    return;
  }
  const spec = PAGES[page];
  if (!spec) {
    go(HOME[role]);
    return;
  }
  renderNav(role, page);
  if (!spec.roles.includes(role)) {
    fill(main, h('h1', {}, 'Not available'),
      h('div', { class: 'alert error', role: 'alert', id: 'not-allowed' },
        `The page "${spec.title}" is not available to a ${role} token.`));
    return;
  }
  document.title = `${spec.title} · refund-broker console`;
  fill(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    const module = await spec.module();
    if (mine !== generation) return;
    fill(main);
    main.dataset.page = page;
    cleanup = module.render(main, { arg, go }) || null;
  } catch (e) {
    fill(main, errorBox(e, 'The page could not be shown'));
  }
}

whenUnauthorized(() => signOut('Your sign-in is no longer accepted (the token was revoked or is unknown). Sign in again.'));

window.addEventListener('error', (event) => {
  main.prepend(errorBox(event.error || event.message, 'Unexpected error'));
});
window.addEventListener('unhandledrejection', (event) => {
  if (event.reason && event.reason.name === 'AbortError') return;
  main.prepend(errorBox(event.reason, 'Unexpected error'));
});
window.addEventListener('hashchange', render);
render();
