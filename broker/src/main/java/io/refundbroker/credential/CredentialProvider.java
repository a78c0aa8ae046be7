package io.refundbroker.credential;

import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.KeysInUse;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.salesunit.VippsKeys;
import io.refundbroker.store.Store;
import io.vertx.core.Future;

/**
 * Read side of the credential store, as the refund flow uses it: the current keys of a key holder
 * (a sales unit or a partner), served from an in-memory cache in front of Vault (or the local
 * backend), and the key set a call for a store uses.
 */
public interface CredentialProvider {

  /**
   * The current keys of {@code holder}.
   *
   * @return the keys; fails with a {@code ProblemException} 503 {@code CREDENTIALS_UNAVAILABLE}
   *     when the backend cannot be reached and no unexpired cached copy exists (never a guess), or
   *     409 {@code CREDENTIALS_MISSING} when no keys were ever stored for {@code holder}
   */
  Future<VippsKeys> current(KeyHolder holder);

  /** The current own keys of sales unit {@code msn}; fails like {@link #current(KeyHolder)}. */
  default Future<StoreCredentials> current(String msn) {
    return current(KeyHolder.salesUnit(msn)).map(StoreCredentials::of);
  }

  /**
   * The key set a Vipps call on a payment of {@code store} uses now: its partner's keys when it has
   * a {@code partnerId} (option A), else its sales unit's own keys (options B and C) — with the
   * store's own MSN and API flavour either way, from the store record.
   *
   * @return fails like {@link #current(KeyHolder)}
   */
  default Future<KeysInUse> keysFor(Store store) {
    return keysFor(holderOf(store), store.msn(), store.api());
  }

  /**
   * The current keys of {@code holder}, used to act for sales unit {@code msn} through {@code api}
   * (e.g. a refund finishing with the key holder it was written with).
   *
   * @return fails like {@link #current(KeyHolder)}
   */
  default Future<KeysInUse> keysFor(KeyHolder holder, String msn, VippsApi api) {
    return current(holder).map(keys -> new KeysInUse(msn, api, keys));
  }

  /** Whose keys a call for {@code store} uses now: its partner's, or its sales unit's own. */
  static KeyHolder holderOf(Store store) {
    return store.partnerId() != null
        ? KeyHolder.partner(store.partnerId())
        : KeyHolder.salesUnit(store.msn());
  }
}
