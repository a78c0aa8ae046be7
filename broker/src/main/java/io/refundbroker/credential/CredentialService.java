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
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin workflow for Vipps keys — a sales unit's own keys (reached through any store on it, or
 * by MSN) and a partner's keys: rotate (prove the new keys with Vipps, then write a new version
 * with check-and-set), list version metadata, roll back. One write path for every holder. Admins
 * write keys but can never read them back; no method returns or logs a secret.
 *
 * <p>After every write the cached keys and the holder's Vipps access token are dropped here, and
 * every other instance is told through {@link CredentialInvalidations}. Each write appends one
 * audit event ({@code credential.rotated}, {@code credential.rolled_back}) in the transaction that
 * records it (for the local backend the very transaction that stores the version).
 */
public final class CredentialService {
  private static final Logger LOG = LoggerFactory.getLogger(CredentialService.class);

  /**
   * Whose keys an admin request is about, and how its answer and audit event name them.
   *
   * @param holder the key holder written
   * @param subjectType the audit subject ({@code store}, {@code salesunit}, {@code partner})
   * @param subjectId its id
   * @param chainId the chain of the audit event, or null (a partner serves many)
   * @param names what the answer says the keys are of ({@code storeId}, {@code msn}, {@code
   *     partnerId}, …)
   */
  public record Target(
      KeyHolder holder, String subjectType, String subjectId, String chainId, JsonObject names) {

    static Target store(Store store) {
      return new Target(
          KeyHolder.salesUnit(store.msn()),
          "store",
          store.storeId(),
          store.chainId(),
          new JsonObject().put("storeId", store.storeId()).put("msn", store.msn()));
    }

    static Target salesUnit(String msn, List<Store> stores) {
      JsonArray ids = new JsonArray();
      stores.forEach(store -> ids.add(store.storeId()));
      return new Target(
          KeyHolder.salesUnit(msn),
          "salesunit",
          msn,
          stores.get(0).chainId(),
          new JsonObject().put("msn", msn).put("storeIds", ids));
    }

    static Target partner(String partnerId) {
      return new Target(
          KeyHolder.partner(partnerId),
          "partner",
          partnerId,
          null,
          new JsonObject().put("partnerId", partnerId));
    }
  }

  /** The outcome of a rotation or rollback. */
  public record Rotation(Target target, CredentialVersion version, int previousVersion) {
    public JsonObject toJson() {
      return target.names().copy().mergeIn(details(previousVersion, version));
    }
  }

  private final Pool pool;
  private final StoreService stores;
  private final PartnerRepository partners;
  private final CredentialBackend backend;
  private final CredentialCache cache;
  private final CredentialInvalidations invalidations;
  private final VippsGateway vipps;
  private final AuditLog audit;
  private final Clock clock;

  /**
   * @param vipps proves new keys ({@link VippsGateway#verifyCredentials}) and forgets the holder's
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
    this.partners = new PartnerRepository();
    this.backend = backend;
    this.cache = cache;
    this.invalidations = invalidations;
    this.vipps = vipps;
    this.audit = audit;
    this.clock = clock;
  }

  /**
   * Rotates the keys of a store's sales unit (shared by every store on that MSN): proves them by
   * fetching a Vipps access token (unless {@code validate} is false), then writes them as the next
   * version with check-and-set on the version read at the start.
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
        .map(Target::store)
        .compose(target -> rotate(caller, target, keys, validate));
  }

  /**
   * Rotates the keys of sales unit {@code msn}, whichever stores are on it; fails like {@link
   * #rotate(Caller, String, KeySet, boolean)}, and with 404 {@code SALES_UNIT_NOT_FOUND}.
   */
  public Future<Rotation> rotateSalesUnit(
      Caller caller, String msn, KeySet keys, boolean validate) {
    return salesUnit(msn).compose(target -> rotate(caller, target, keys, validate));
  }

  /**
   * Rotates (or first stores) partner {@code partnerId}'s keys; fails like {@link #rotate(Caller,
   * String, KeySet, boolean)}.
   */
  public Future<Rotation> rotatePartner(
      Caller caller, String partnerId, KeySet keys, boolean validate) {
    return rotate(caller, Target.partner(partnerId), keys, validate);
  }

  private Future<Rotation> rotate(Caller caller, Target target, KeySet keys, boolean validate) {
    return writeNext(
        caller, target, "credential.rotated", null, validate, Future.succeededFuture(keys));
  }

  /**
   * Rolls back a store's sales unit's keys: writes the data of {@code version} as a new version
   * (check-and-set), after proving the old keys still work with Vipps (unless {@code validate} is
   * false).
   *
   * @return the new version; fails with 404 {@code STORE_NOT_FOUND}, 404 {@code
   *     CREDENTIALS_VERSION_NOT_FOUND}, 422 {@code CREDENTIALS_REJECTED}, 409 {@code
   *     CREDENTIALS_CONFLICT}, 503 {@code CREDENTIALS_UNAVAILABLE}
   */
  public Future<Rotation> rollback(Caller caller, String storeId, int version, boolean validate) {
    return stores
        .get(storeId)
        .map(Target::store)
        .compose(target -> rollback(caller, target, version, validate));
  }

  /** Rolls back sales unit {@code msn}'s keys; fails like {@link #rollback} and with 404. */
  public Future<Rotation> rollbackSalesUnit(
      Caller caller, String msn, int version, boolean validate) {
    return salesUnit(msn).compose(target -> rollback(caller, target, version, validate));
  }

  /** Rolls back partner {@code partnerId}'s keys; fails like {@link #rollback}. */
  public Future<Rotation> rollbackPartner(
      Caller caller, String partnerId, int version, boolean validate) {
    return rollback(caller, Target.partner(partnerId), version, validate);
  }

  private Future<Rotation> rollback(Caller caller, Target target, int version, boolean validate) {
    return writeNext(
        caller,
        target,
        "credential.rolled_back",
        version,
        validate,
        backend.read(target.holder(), version).map(KeySet::of));
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
      Target target,
      String action,
      Integer restoredVersion,
      boolean validate,
      Future<KeySet> keys) {
    return backend
        .history(target.holder())
        .compose(
            history ->
                keys.compose(
                    next ->
                        proveAndCommit(
                            caller, target, action, restoredVersion, validate, history, next)));
  }

  private Future<Rotation> proveAndCommit(
      Caller caller,
      Target target,
      String action,
      Integer restoredVersion,
      boolean validate,
      CredentialHistory history,
      KeySet next) {
    int current = history.currentVersion();
    return prove(target.holder(), next, current + 1, validate)
        .compose(
            validatedAt ->
                commit(
                    caller,
                    target,
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
   * The version metadata of a store's sales unit's keys (never the keys).
   *
   * @return the history; fails with 404 {@code STORE_NOT_FOUND}, 503 {@code
   *     CREDENTIALS_UNAVAILABLE}
   */
  public Future<JsonObject> history(String storeId) {
    return stores.get(storeId).map(Target::store).compose(this::history);
  }

  /** The version metadata of sales unit {@code msn}'s keys; fails with 404, 503. */
  public Future<JsonObject> salesUnitHistory(String msn) {
    return salesUnit(msn).compose(this::history);
  }

  /**
   * The version metadata of partner {@code partnerId}'s keys (an empty history when none were
   * stored); fails with 503 {@code CREDENTIALS_UNAVAILABLE}.
   */
  public Future<JsonObject> partnerHistory(String partnerId) {
    return history(Target.partner(partnerId));
  }

  private Future<JsonObject> history(Target target) {
    return backend.history(target.holder()).map(history -> describe(target, history));
  }

  /** The sales unit {@code msn} with the stores on it; fails with 404 when no store is on it. */
  private Future<Target> salesUnit(String msn) {
    return stores
        .onSalesUnit(msn)
        .compose(
            on ->
                on.isEmpty()
                    ? Future.failedFuture(
                        ProblemException.notFound(
                            "SALES_UNIT_NOT_FOUND",
                            "No store is enrolled on Merchant-Serial-Number " + msn + "."))
                    : Future.succeededFuture(Target.salesUnit(msn, on)));
  }

  private JsonObject describe(Target target, CredentialHistory history) {
    JsonArray versions = new JsonArray();
    history.versions().forEach(v -> versions.add(v.toJson()));
    return target
        .names()
        .copy()
        .put("backend", backend.name())
        .put("currentVersion", history.currentVersion())
        .put("versions", versions);
  }

  /** When Vipps accepted the keys, or null when not asked to prove them. */
  private Future<Instant> prove(KeyHolder holder, KeySet keys, int version, boolean validate) {
    if (!validate) {
      return Future.succeededFuture(null);
    }
    return vipps
        .verifyCredentials(keys.as(holder, version))
        .map(ok -> clock.instant())
        .recover(failure -> Future.failedFuture(VippsKeyProblems.of(failure, holder)))
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
      Caller caller, Target target, String action, int cas, KeySet keys, RotationInfo info) {
    KeyHolder holder = target.holder();
    // completed once the backend holds the new version, even if the transaction fails after it
    Promise<CredentialVersion> written = Promise.promise();
    return Transactions.run(
            pool,
            tx ->
                enroll(tx, holder)
                    .compose(v -> backend.write(tx, holder, keys, cas, info))
                    .onSuccess(written::tryComplete)
                    .compose(version -> announce(tx, caller, target, action, cas, version)))
        .onComplete(result -> afterCommit(result, written.future().succeeded(), holder, action));
  }

  /** A partner exists from its first key version on (stores name it by id). */
  private Future<Void> enroll(SqlConnection tx, KeyHolder holder) {
    return holder instanceof KeyHolder.Partner partner
        ? partners.ensure(tx, partner.partnerId())
        : Future.succeededFuture();
  }

  /** Tells the other instances and records the change, in the transaction that made it. */
  private Future<Rotation> announce(
      SqlConnection tx,
      Caller caller,
      Target target,
      String action,
      int cas,
      CredentialVersion version) {
    AuditEvent event =
        AuditEvent.success(
            action,
            target.subjectType(),
            target.subjectId(),
            target.chainId(),
            target.names().copy().mergeIn(details(cas, version)));
    return invalidations
        .notifyChanged(tx, target.holder().key())
        .compose(v -> audit.record(tx, caller, event, new Rotation(target, version, cas)));
  }

  private void afterCommit(
      AsyncResult<Rotation> result, boolean written, KeyHolder holder, String action) {
    if (written) {
      // the backend may hold the new version even when the audit failed: drop caches
      cache.invalidate(holder);
      vipps.forgetTokens(holder);
    }
    if (result.failed() && written && !backend.joinsTransaction()) {
      LOG.atError()
          .setMessage(
              "credential version written to the backend but its audit event failed;"
                  + " reconcile the backend history with the audit trail")
          .addKeyValue("holder", holder.describe())
          .addKeyValue("action", action)
          .log();
    }
  }

  private static JsonObject details(int previous, CredentialVersion version) {
    JsonObject details =
        new JsonObject()
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
