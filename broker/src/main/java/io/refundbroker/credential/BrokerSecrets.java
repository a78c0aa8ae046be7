package io.refundbroker.credential;

import io.vertx.core.Future;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The broker's own secrets (the client-certificate CA's private key, the audit MAC key), kept by
 * the configured credential backend next to the stores' keys: Vault KV {@code broker/<name>}, or
 * envelope-encrypted in {@code broker_secrets} by the local backend. Never in a database column in
 * plaintext, never readable through the API. See {@link CredentialBackend#brokerSecret}.
 */
@FunctionalInterface
public interface BrokerSecrets {

  /**
   * The secret {@code name}, created from {@code create} on first use and never replaced; two
   * instances creating it at once both get the value stored first. Every call reads the backend:
   * callers keep what they need.
   *
   * @param name lower-case letters, digits and {@code -}
   * @param create makes the initial fields when nothing is stored (generate keys on a worker)
   * @return the stored fields; fails with 503 {@code CREDENTIALS_UNAVAILABLE} when the backend
   *     cannot be used
   */
  Future<Map<String, String>> getOrCreate(
      String name, Supplier<Future<Map<String, String>>> create);
}
