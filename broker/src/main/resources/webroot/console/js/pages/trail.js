// Auditor: is the trail intact? The verify verdict as a banner, the signed checkpoints, and the
// public key that checks them (with its SHA-256 fingerprint, to compare with a copy kept offline).
import { json, query, request, save } from '../api.js';
import { errorBox, fill, h, progress, table, when } from '../ui.js';

export function render(main) {
  const controller = new AbortController();
  let verifying = null;
  const verdict = h('div', { id: 'verdict-area' });
  const verifyButton = h('button', { type: 'button', id: 'verify-trail' }, 'Verify the trail now');
  const checkpoints = h('div', { id: 'checkpoints' }, h('p', { class: 'loading' }, 'Loading checkpoints…'));
  const key = h('div', { id: 'public-key' }, h('p', { class: 'loading' }, 'Loading the public key…'));
  fill(main,
    h('h1', {}, 'Trail integrity'),
    h('div', { class: 'card' },
      h('p', { class: 'muted small' }, 'Recomputes every event\'s hash and checks every signed checkpoint, as the offline "audit verify" command does. On a large trail this takes a while; you can cancel it.'),
      h('div', { class: 'actions' }, verifyButton)),
    verdict,
    h('div', { class: 'cols' },
      h('section', {}, h('h2', {}, 'Signed checkpoints'), checkpoints),
      h('section', {}, h('h2', {}, 'Checkpoint signing key'), key)));

  verifyButton.addEventListener('click', async () => {
    if (verifying) return;
    verifying = new AbortController();
    verifyButton.disabled = true;
    const shown = progress('Verifying the audit trail', () => verifying && verifying.abort());
    fill(verdict, shown.el);
    try {
      const result = await json('/v1/audit/verify', { signal: verifying.signal });
      shown.done();
      fill(verdict, banner(result));
    } catch (e) {
      shown.done();
      fill(verdict, e.name === 'AbortError'
        ? h('div', { class: 'alert warn', role: 'status', id: 'verify-cancelled' }, 'Verification cancelled; no verdict.')
        : errorBox(e, 'Verification failed'));
    } finally {
      verifying = null;
      verifyButton.disabled = false;
    }
  });

  loadCheckpoints(checkpoints, controller.signal);
  loadKey(key, controller.signal);
  return () => {
    controller.abort();
    if (verifying) verifying.abort();
  };
}

function banner(result) {
  if (result.valid) {
    const unsigned = result.unsignedEvents || 0;
    return h('div', { class: 'verdict ok', id: 'verdict', 'data-valid': 'true', role: 'status' },
      h('strong', {}, 'Intact'),
      `${result.checkedEvents} events checked, ${result.checkpointsVerified ?? 0} checkpoints verified; head seq ${result.headSeq}.`,
      h('div', { class: 'small' }, unsigned > 0
        ? `${unsigned} event${unsigned === 1 ? '' : 's'} after the last checkpoint (seq ${result.lastValidCheckpointSeq ?? 0}) are protected by the hash chain only until the next checkpoint is signed.`
        : 'Every event is covered by a signed checkpoint.'),
      h('div', { class: 'small mono' }, `head hash ${result.headHash}`));
  }
  return h('div', { class: 'verdict bad', id: 'verdict', 'data-valid': 'false', 'data-first-invalid-seq': result.firstInvalidSeq, role: 'alert' },
    h('strong', {}, `Tampered: the first bad event is seq ${result.firstInvalidSeq}`),
    result.reason || '',
    h('div', { class: 'small' }, `${result.checkedEvents} events checked; last valid checkpoint at seq ${result.lastValidCheckpointSeq ?? 0}. Export the trail and compare it with your own earlier exports.`));
}

async function loadCheckpoints(el, signal) {
  try {
    const all = [];
    let after = 0;
    for (;;) {
      const page = await json(`/v1/audit/checkpoints${query({ afterSeq: after, limit: 1000 })}`, { signal });
      all.push(...page.checkpoints);
      if (page.nextAfterSeq === undefined || page.nextAfterSeq === null || page.checkpoints.length === 0) break;
      after = page.nextAfterSeq;
    }
    if (all.length === 0) {
      fill(el, h('p', { class: 'muted', id: 'no-checkpoints' }, 'No checkpoint signed yet.'));
      return;
    }
    const last = all[all.length - 1];
    const newest = all.slice(-20).reverse();
    fill(el,
      h('p', { id: 'last-checkpoint' }, 'Last checkpoint: ', h('strong', {}, when(last.signedAt)), ` at seq ${last.seq} (${all.length} in all).`),
      table([{ label: 'Seq', num: true }, { label: 'Signed (UTC)' }, { label: 'Key' }, { label: 'Head hash' }],
        newest.map((c) => h('tr', {},
          h('td', { class: 'num' }, c.seq),
          h('td', {}, when(c.signedAt)),
          h('td', {}, h('code', {}, c.keyId)),
          h('td', {}, h('code', { title: c.headHash }, `${c.headHash.slice(0, 16)}…`)))),
        { id: 'checkpoint-table' }));
  } catch (e) {
    if (e.name !== 'AbortError') fill(el, errorBox(e, 'Checkpoints could not be read'));
  }
}

async function loadKey(el, signal) {
  try {
    const response = await request('/v1/audit/public-key', { accept: 'application/x-pem-file', signal });
    const pem = await response.text();
    const keyId = response.headers.get('X-Audit-Key-Id') || 'unknown';
    const fingerprint = await sha256Fingerprint(pem);
    fill(el,
      h('dl', { class: 'kv card' },
        h('dt', {}, 'Key id'), h('dd', {}, h('code', { id: 'key-id' }, keyId)),
        h('dt', {}, 'Algorithm'), h('dd', {}, 'Ed25519'),
        h('dt', {}, 'SHA-256 of the key (DER)'),
        h('dd', {}, fingerprint
          ? h('code', { id: 'key-fingerprint' }, fingerprint)
          : h('span', { class: 'muted', id: 'key-fingerprint' }, 'needs a secure context (https or localhost)'))),
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', id: 'download-key', class: 'secondary',
          onclick: () => save(new Blob([pem], { type: 'application/x-pem-file' }), 'audit-public-key.pem'),
        }, 'Download public key (PEM)')),
      h('p', { class: 'small muted' }, 'Check a copy offline: openssl pkey -pubin -in audit-public-key.pem -outform DER | sha256sum'));
  } catch (e) {
    if (e.name !== 'AbortError') fill(el, errorBox(e, 'The public key could not be read'));
  }
}

/** SHA-256 over the DER inside the PEM, as colon-separated hex; null without WebCrypto. */
async function sha256Fingerprint(pem) {
  if (!window.crypto || !window.crypto.subtle) return null;
  const base64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const der = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await window.crypto.subtle.digest('SHA-256', der));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(':');
}
