package io.refundbroker.credential;

import io.refundbroker.audit.signing.CheckpointSigner;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Where the stores' Vipps keys live: HashiCorp Vault KV v2 ({@code credential.vault}) or the local
 * envelope-encrypted table ({@code credential.local}). Both keep numbered versions per MSN, write
 * with check-and-set and never overwrite or delete a version. Every method returns a future and
 * never blocks the caller's thread.
 *
 * <p>Failures are {@link io.refundbroker.error.ProblemException}s: 503 {@code
 * CREDENTIALS_UNAVAILABLE} when the backend cannot be used (unreachable, sealed, throttled, or it
 * refused the broker: the reason is logged for operators, never sent to the caller), 409 {@code
 * CREDENTIALS_MISSING}, 404 {@code CREDENTIALS_VERSION_NOT_FOUND}, 409 {@code CREDENTIALS_CONFLICT}
 * as documented per method.
 */
public interface CredentialBackend {

  /** A short name for logs and readiness ({@code vault}, {@code local}). */
  String name();

  /**
   * Whether {@link #write} takes part in the caller's transaction (so a rolled-back transaction
   * leaves no version behind). False for Vault.
   */
  boolean joinsTransaction();

  /**
   * Writes {@code keys} as the next version of {@code msn}, only if the current version is still
   * {@code cas} (0: only if none exists).
   *
   * @param tx the transaction the caller will append its audit event in; the local backend writes
   *     in it (so the version commits with its audit event), Vault cannot take part and ignores it
   * @return the metadata of the new version; fails with 409 {@code CREDENTIALS_CONFLICT} when the
   *     current version is no longer {@code cas}
   */
  Future<CredentialVersion> write(
      SqlConnection tx, String msn, KeySet keys, int cas, RotationInfo info);

  /**
   * The current version of {@code msn}'s keys.
   *
   * @return fails with 409 {@code CREDENTIALS_MISSING} when none were ever stored (or the current
   *     one was deleted outside the broker)
   */
  Future<StoreCredentials> read(String msn);

  /**
   * One retained version of {@code msn}'s keys.
   *
   * @return fails with 404 {@code CREDENTIALS_VERSION_NOT_FOUND} for a version that does not exist,
   *     was pruned or deleted
   */
  Future<StoreCredentials> read(String msn, int version);

  /** The retained versions' metadata; an empty history when nothing was stored. */
  Future<CredentialHistory> history(String msn);

  /**
   * Rolls back: writes the data of {@code version} as a new version (check-and-set on {@code cas}).
   * Nothing is deleted; the rollback is itself a version.
   *
   * @return the new version; fails like {@link #read(String, int)} and {@link #write}
   */
  default Future<CredentialVersion> rollback(
      SqlConnection tx, String msn, int version, int cas, RotationInfo info) {
    return read(msn, version).compose(old -> write(tx, msn, KeySet.of(old), cas, info));
  }

  /**
   * One of the broker's own secrets (not a store's keys), such as the client-certificate CA's
   * private key or the audit MAC key. It is kept where the store keys are (Vault KV {@code
   * broker/<name>}; the local backend envelope-encrypts it into {@code broker_secrets}), created on
   * first use from {@code create} and never replaced: when two instances create it at once, both
   * end up with the value stored first. Callers cache it; every call reads the backend.
   *
   * @param name lower-case letters, digits and {@code -} (at most 63)
   * @param create makes the initial fields; called only when nothing is stored yet (run any
   *     blocking key generation on a worker inside it)
   * @return the stored fields; fails with 503 {@code CREDENTIALS_UNAVAILABLE} when the backend
   *     cannot be used
   */
  Future<Map<String, String>> brokerSecret(
      String name, Supplier<Future<Map<String, String>>> create);

  /**
   * Checks a {@link #brokerSecret} name (a programming error otherwise, never user input).
   *
   * @throws IllegalArgumentException for a name outside {@code [a-z0-9][a-z0-9-]{0,62}}
   */
  static String secretName(String name) {
    if (name == null || !name.matches("[a-z0-9][a-z0-9-]{0,62}")) {
      throw new IllegalArgumentException("not a broker secret name: " + name);
    }
    return name;
  }

  /**
   * Succeeds when the backend can serve reads now (Vault reachable, unsealed, in a state that
   * serves reads, with a usable token, and a credential read works; the local table readable).
   *
   * @return a short public description of the backend's state (no secrets); fails with 503 {@code
   *     CREDENTIALS_UNAVAILABLE} whose detail says what is wrong
   */
  Future<String> checkReady();

  /** Releases threads, timers and connections. */
  Future<Void> close();

  /** A checkpoint signer whose key this backend keeps (Vault Transit), if it has one. */
  default Optional<CheckpointSigner> checkpointSigner() {
    return Optional.empty();
  }
}
