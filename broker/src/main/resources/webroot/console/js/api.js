// The console's only way to the broker: its public API, with the signed-in session's credentials.
// Errors become ApiError carrying the problem (RFC 9457) the broker answered.
import { session } from './session.js';
import { h } from './ui.js';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.code = problem.code;
  }
}

let onUnauthorized = () => {};

/** Called when a signed-in request gets 401 (the token was revoked). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/**
 * Sends a request and returns the Response (2xx only).
 * @param options {method, body (JSON), headers, accept, signal, token (overrides the session's)}
 */
export async function request(path, options = {}) {
  const headers = { Accept: options.accept || 'application/json', ...(options.headers || {}) };
  const token = options.token !== undefined ? options.token : session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(path, {
      method: options.method || 'GET',
      headers,
      body,
      signal: options.signal,
      cache: 'no-store',
      credentials: 'same-origin',
      referrerPolicy: 'no-referrer',
      redirect: 'error',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { title: 'Network error', detail: `The broker could not be reached (${e.message}).` });
  }
  if (!response.ok) {
    const error = await problemOf(response);
    if (response.status === 401 && options.token === undefined && session.get()) onUnauthorized(error);
    throw error;
  }
  return response;
}

async function problemOf(response) {
  let problem = null;
  try {
    const text = await response.text();
    problem = JSON.parse(text);
  } catch {
    problem = null;
  }
  if (!problem || typeof problem !== 'object') {
    problem = { title: response.statusText || 'Error', detail: `The broker answered HTTP ${response.status}.` };
  }
  problem.status = problem.status || response.status;
  return new ApiError(response.status, problem);
}

/** GET/POST/... and parse the JSON answer (null for 204). */
export async function json(path, options = {}) {
  const response = await request(path, options);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/**
 * Streams a response into a file the browser saves, reporting bytes received; cancellable
 * through {@code signal}.
 */
export async function download(path, { accept, filename, signal, onProgress }) {
  const response = await request(path, { accept, signal });
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    if (onProgress) onProgress(received);
  }
  const blob = new Blob(chunks, { type: response.headers.get('Content-Type') || 'application/octet-stream' });
  save(blob, filename);
  return { bytes: received, response };
}

/** Offers {@code blob} as a download named {@code filename}. */
export function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, class: 'hidden-download' });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') q.set(key, value);
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}
