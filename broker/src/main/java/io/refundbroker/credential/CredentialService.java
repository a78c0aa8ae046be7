package io.refundbroker.credential;

import io.refundbroker.audit.AuditEvent;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.caller.Caller;
import io.refundbroker.db.Transactions;
import io.refundbroker.error.ProblemException;
import io.refundbroker.sabotage.Sabotage;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.store.Store;
import io.refundbroker.store.StoreService;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin workflow for store credentials: rotate (prove the new keys with Vipps, then write a new
 * version with check-and-set), list version metadata, roll back. Admins write keys but can never
 * read them back; no method returns or logs a secret.
 *
 * <p>After every write the cached keys and the store's Vipps access token are dropped here, and
 * every other instance is told through {@link CredentialInvalidations}. Each write appends one
 * audit event ({@code credential.rotated}, {@code credential.rolled_back}) in the transaction that
 * records it (for the local backend the very transaction that stores the version).
 */
public final class CredentialService {
  private static final Logger LOG = LoggerFactory.getLogger(CredentialService.class);

  /** The outcome of a rotation or rollback. */
  public record Rotation(Store store, CredentialVersion version, int previousVersion) {
    public JsonObject toJson() {
      return details(store.msn(), previousVersion, version).put("storeId", store.storeId());
    }
  }

  private final Pool pool;
  private final StoreService stores;
  private final CredentialBackend backend;
  private final CredentialCache cache;
  private final CredentialInvalidations invalidations;
  private final VippsGateway vipps;
  private final AuditLog audit;
  private final Clock clock;

  /**
   * @param vipps proves new keys ({@link VippsGateway#verifyCredentials}) and forgets the store's
   *     access token after a change
   */
  public CredentialService(
      Pool pool,
      StoreService stores,
      CredentialBackend backend,
      CredentialCache cache,
      CredentialInvalidations invalidations,
      VippsGateway vipps,
      AuditLog audit,
      Clock clock) {
    this.pool = pool;
    this.stores = stores;
    this.backend = backend;
    this.cache = cache;
    this.invalidations = invalidations;
    this.vipps = vipps;
    this.audit = audit;
    this.clock = clock;
  }

  /**
   * Rotates a store's keys: proves them by fetching a Vipps access token (unless {@code validate}
   * is false), then writes them as the next version with check-and-set on the version read at the
   * start.
   *
   * @return the new version; fails with 404 {@code STORE_NOT_FOUND}, 422 {@code
   *     CREDENTIALS_REJECTED} (Vipps refused the keys; nothing written), 409 {@code
   *     CREDENTIALS_CONFLICT} (another rotation won), 502/503 when Vipps or the credential store
   *     cannot be used
   */
  public Future<Rotation> rotate(Caller caller, String storeId, KeySet keys, boolean validate) {
    if (Sabotage.ECHO_SECRET_IN_LOG.on()) {
      LOG.atInfo()
          .setMessage("rotating keys")
          .addKeyValue("storeId", storeId)
          .addKeyValue("secret", keys.clientSecret().reveal())
          .log();
    }
    return stores
        .get(storeId)
        .compose(
            store ->
                writeNext(
                    caller,
                    store,
                    "credential.rotated",
                    null,
                    validate,
                    Future.succeededFuture(keys)));
  }

  /**
   * Rolls back: writes the data of {@code version} as a new version (check-and-set), after proving
   * the old keys still work with Vipps (unless {@code validate} is false).
   *
   * @return the new version; fails with 404 {@code STORE_NOT_FOUND}, 404 {@code
   *     CREDENTIALS_VERSION_NOT_FOUND}, 422 {@code CREDENTIALS_REJECTED}, 409 {@code
   *     CREDENTIALS_CONFLICT}, 503 {@code CREDENTIALS_UNAVAILABLE}
   */
  public Future<Rotation> rollback(Caller caller, String storeId, int version, boolean validate) {
    return stores
        .get(storeId)
        .compose(
            store ->
                writeNext(
                    caller,
                    store,
                    "credential.rolled_back",
                    version,
                    validate,
                    backend.read(store.msn(), version).map(KeySet::of)));
  }

  /**
   * The shared path of rotation and rollback: reads the current version, proves {@code keys}
   * (unless not asked to), and writes them as the next version with check-and-set on the version
   * read.
   *
   * @param restoredVersion the version rolled back to, or null for a rotation
   */
  private Future<Rotation> writeNext(
      Caller caller,
      Store store,
      String action,
      Integer restoredVersion,
      boolean validate,
      Future<KeySet> keys) {
    return backend
        .history(store.msn())
        .compose(
            history ->
                keys.compose(
                    next ->
                        proveAndCommit(
                            caller, store, action, restoredVersion, validate, history, next)));
  }

  private Future<Rotation> proveAndCommit(
      Caller caller,
      Store store,
      String action,
      Integer restoredVersion,
      boolean validate,
      CredentialHistory history,
      KeySet next) {
    int current = history.currentVersion();
    return prove(store, next, current + 1, validate)
        .compose(
            validatedAt ->
                commit(
                    caller,
                    store,
                    action,
                    current,
                    next,
                    new RotationInfo(
                        caller.principal().clientId(),
                        clock.instant(),
                        validatedAt,
                        restoredVersion)));
  }

  /**
   * The version metadata of a store's keys (never the keys).
   *
   * @return the history; fails with 404 {@code STORE_NOT_FOUND}, 503 {@code
   *     CREDENTIALS_UNAVAILABLE}
   */
  public Future<JsonObject> history(String storeId) {
    return stores
        .get(storeId)
        .compose(store -> backend.history(store.msn()).map(history -> describe(store, history)));
  }

  private JsonObject describe(Store store, CredentialHistory history) {
    JsonArray versions = new JsonArray();
    history.versions().forEach(v -> versions.add(v.toJson()));
    return new JsonObject()
        .put("storeId", store.storeId())
        .put("msn", store.msn())
        .put("backend", backend.name())
        .put("currentVersion", history.currentVersion())
        .put("versions", versions);
  }

  /** When Vipps accepted the keys, or null when not asked to prove them. */
  private Future<Instant> prove(Store store, KeySet keys, int version, boolean validate) {
    if (!validate) {
      return Future.succeededFuture(null);
    }
    return vipps
        .verifyCredentials(keys.as(store.msn(), version).vippsKeys())
        .map(ok -> clock.instant())
        .recover(failure -> Future.failedFuture(VippsKeyProblems.of(failure, store.msn())))
        .recover(
            failure ->
                Future.failedFuture(
                    failure instanceof ProblemException
                        ? failure
                        : new ProblemException(
                            502,
                            "VIPPS_UNAVAILABLE",
                            "Bad gateway",
                            "Vipps could not be asked to prove the keys; nothing was written. Try"
                                + " again, or send ?validate=false to store them unproved.")));
  }

  /**
   * In one transaction: the backend's new version, the other instances' invalidation, the audit
   * event. Whatever the outcome, once the backend holds the version this instance's caches forget
   * the old keys.
   */
  private Future<Rotation> commit(
      Caller caller, Store store, String action, int cas, KeySet keys, RotationInfo info) {
    String msn = store.msn();
    // completed once the backend holds the new version, even if the transaction fails after it
    Promise<CredentialVersion> written = Promise.promise();
    return Transactions.run(
            pool,
            tx ->
                backend
                    .write(tx, msn, keys, cas, info)
                    .onSuccess(written::tryComplete)
                    .compose(version -> announce(tx, caller, store, action, cas, version)))
        .onComplete(result -> afterCommit(result, written.future().succeeded(), msn, action));
  }

  /** Tells the other instances and records the change, in the transaction that made it. */
  private Future<Rotation> announce(
      SqlConnection tx,
      Caller caller,
      Store store,
      String action,
      int cas,
      CredentialVersion version) {
    String msn = store.msn();
    AuditEvent event =
        AuditEvent.success(
            action, "store", store.storeId(), store.chainId(), details(msn, cas, version));
    return invalidations
        .notifyChanged(tx, msn)
        .compose(v -> audit.record(tx, caller, event, new Rotation(store, version, cas)));
  }

  private void afterCommit(
      AsyncResult<Rotation> result, boolean written, String msn, String action) {
    if (written) {
      // the backend may hold the new version even when the audit failed: drop caches
      cache.invalidate(msn);
      vipps.forgetTokens(KeyHolder.salesUnit(msn));
    }
    if (result.failed() && written && !backend.joinsTransaction()) {
      LOG.atError()
          .setMessage(
              "credential version written to the backend but its audit event failed;"
                  + " reconcile the backend history with the audit trail")
          .addKeyValue("msn", msn)
          .addKeyValue("action", action)
          .log();
    }
  }

  private static JsonObject details(String msn, int previous, CredentialVersion version) {
    JsonObject details =
        new JsonObject()
            .put("msn", msn)
            .put("version", version.version())
            .put("previousVersion", previous)
            .put("validated", version.validatedAt() != null);
    if (version.validatedAt() != null) {
      details.put("validatedAt", version.validatedAt().toString());
    }
    if (version.restoredVersion() != null) {
      details.put("restoredVersion", version.restoredVersion());
    }
    return details;
  }
}
