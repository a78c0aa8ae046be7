// The signed-in session: kept in sessionStorage only (this tab, gone when it closes), never in a
// URL, a cookie or localStorage. Sign-out removes it.
const KEY = 'refund-broker.console.session';

export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY));
    } catch {
      return null;
    }
  },
  /** The bearer token, or null (signed out, or signed in with a client certificate). */
  token() {
    const s = this.get();
    return s && s.method === 'token' ? s.token : null;
  },
  me() {
    const s = this.get();
    return s ? s.me : null;
  },
  role() {
    const me = this.me();
    return me ? me.role : null;
  },
  save(method, token, me) {
    sessionStorage.setItem(KEY, JSON.stringify({ method, token: token || null, me }));
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};
