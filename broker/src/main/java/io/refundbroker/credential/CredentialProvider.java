package io.refundbroker.credential;

import io.vertx.core.Future;

/**
 * Read side of the credential store, as the refund flow uses it: the current keys of a sales unit,
 * served from an in-memory cache in front of Vault (or the local backend).
 */
public interface CredentialProvider {

  /**
   * The current credentials of {@code msn}.
   *
   * @return the keys; fails with a {@code ProblemException} 503 {@code CREDENTIALS_UNAVAILABLE}
   *     when the backend cannot be reached and no unexpired cached copy exists (never a guess), or
   *     409 {@code CREDENTIALS_MISSING} when no keys were ever stored for {@code msn}
   */
  Future<StoreCredentials> current(String msn);
}
