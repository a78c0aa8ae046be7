package io.refundbroker.refund;

import io.refundbroker.audit.AuditLog;
import io.refundbroker.audit.CanonicalJson;
import io.refundbroker.caller.Caller;
import io.refundbroker.caller.Principal;
import io.refundbroker.config.BrokerConfig.RefundConfig;
import io.refundbroker.credential.CredentialProvider;
import io.refundbroker.db.SqlErrors;
import io.refundbroker.db.TimeOrderedIds;
import io.refundbroker.error.ProblemException;
import io.refundbroker.money.Money;
import io.refundbroker.order.LookupQuota;
import io.refundbroker.order.Order;
import io.refundbroker.order.OrderResolver;
import io.refundbroker.order.PaymentLookup;
import io.refundbroker.order.ResolvedOrder;
import io.refundbroker.sabotage.Sabotage;
import io.refundbroker.salesunit.KeysInUse;
import io.refundbroker.store.RefundLimits;
import io.refundbroker.store.Store;
import io.refundbroker.store.StoreRepository;
import io.refundbroker.vipps.RefundCall;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's main job: Store B refunds an order bought in Store A, with Store A's credentials,
 * exactly once and never above what was captured.
 *
 * <p>The flow: replay or refuse a reused idempotency key; check the requesting store is not frozen;
 * resolve the origin store within the caller's chain; check it is not frozen and the caller's
 * limits; fetch the origin store's keys (failing closed before anything is written); then ONE
 * transaction — one call of the database function {@code refund_write_ahead}, one round trip —
 * checks again that neither store is frozen, locks the order, checks the amount against captured −
 * (succeeded + pending + unknown), claims the idempotency key, inserts the refund as PENDING and
 * appends its audit event — committed before Vipps is called. The Vipps answer is recorded by
 * {@link RefundRecorder} (one call of {@code refund_record_outcome} in the usual case); anything
 * not known for sure is left to the {@link RefundReconciler}. A replay is one statement: the key's
 * record with its refund.
 */
public final class RefundService {
  private static final Logger LOG = LoggerFactory.getLogger(RefundService.class);
  static final String OPERATION = "refund";

  private final Pool pool;
  private final StoreRepository stores;
  private final OrderResolver resolver;
  private final PaymentLookup payments;
  private final LookupQuota lookups;
  private final RefundRepository refunds;
  private final IdempotencyRepository idempotency;
  private final CredentialProvider credentials;
  private final VippsGateway vipps;
  private final RefundRecorder recorder;
  private final AuditLog audit;
  private final Clock clock;
  private final RefundConfig config;
  private final Duration callBudget;

  /** What a store asked for. */
  public record RefundRequest(String orderId, Money amount, String reason, String originStoreId) {
    JsonObject toJson() {
      JsonObject json =
          new JsonObject()
              .put("orderId", orderId)
              .put("amount", amount.toJson())
              .put("reason", reason);
      if (originStoreId != null) {
        json.put("originStoreId", originStoreId);
      }
      return json;
    }
  }

  /** The answer: a refund, and whether it replays an earlier request with the same key. */
  public record Reply(Refund refund, boolean replayed) {}

  /** Everything gathered before the write-ahead transaction. */
  private record Prepared(
      Store requesting, ResolvedOrder resolved, KeysInUse credentials, Order vippsOrder) {}

  public RefundService(
      Pool pool,
      StoreRepository stores,
      OrderResolver resolver,
      PaymentLookup payments,
      LookupQuota lookups,
      RefundRepository refunds,
      IdempotencyRepository idempotency,
      CredentialProvider credentials,
      VippsGateway vipps,
      RefundRecorder recorder,
      AuditLog audit,
      Clock clock,
      RefundConfig config,
      Duration callBudget) {
    this.pool = pool;
    this.stores = stores;
    this.resolver = resolver;
    this.payments = payments;
    this.lookups = lookups;
    this.refunds = refunds;
    this.idempotency = idempotency;
    this.credentials = credentials;
    this.vipps = vipps;
    this.recorder = recorder;
    this.audit = audit;
    this.clock = clock;
    this.config = config;
    this.callBudget = callBudget;
  }

  /**
   * Requests a refund on behalf of the caller's store.
   *
   * @return the refund (SUCCEEDED, PENDING or UNKNOWN); fails with a problem: 404 {@code
   *     ORDER_NOT_FOUND}, 409 {@code ORDER_AMBIGUOUS}, 403 {@code STORE_FROZEN} (the requesting or
   *     the origin store), 429 {@code TOO_MANY_LOOKUPS} (an unregistered order of another store,
   *     over the client's {@link LookupQuota}), 422 {@code REFUND_EXCEEDS_REFUNDABLE} / {@code
   *     LIMIT_EXCEEDED} / {@code CURRENCY_MISMATCH} / {@code IDEMPOTENCY_KEY_REUSED} / {@code
   *     REFUND_WINDOW_PASSED}, 409 {@code REQUEST_IN_FLIGHT}, 429 {@code TOO_MANY_REFUNDS}, 503
   *     {@code CREDENTIALS_UNAVAILABLE}, or the problem of a refund Vipps refused
   */
  public Future<Reply> request(Caller caller, String idempotencyKey, RefundRequest request) {
    Principal principal = caller.principal();
    principal.requireStore();
    byte[] fingerprint = fingerprint(request);
    return idempotency
        .findWithRefund(pool, principal.clientId(), idempotencyKey)
        .compose(
            existing ->
                existing != null
                    ? replay(existing, fingerprint)
                    : first(caller, idempotencyKey, fingerprint, request));
  }

  /**
   * The first request with this key: prepared, written ahead, sent to Vipps. A concurrent request
   * that claimed the same key first is answered as a replay.
   */
  private Future<Reply> first(
      Caller caller, String idempotencyKey, byte[] fingerprint, RefundRequest request) {
    Principal principal = caller.principal();
    return prepare(principal, request)
        .compose(
            prepared -> writeAheadAndCall(caller, idempotencyKey, fingerprint, request, prepared))
        .map(refund -> new Reply(refund, false))
        .recover(failure -> raced(failure, principal, idempotencyKey, fingerprint));
  }

  private Future<Refund> writeAheadAndCall(
      Caller caller,
      String idempotencyKey,
      byte[] fingerprint,
      RefundRequest request,
      Prepared prepared) {
    return writeAhead(caller, idempotencyKey, fingerprint, request, prepared)
        .compose(
            refund -> {
              Sabotage.CRASH_BEFORE_VIPPS_CALL.crashHere();
              return callVipps(caller, refund, prepared.credentials());
            })
        .map(
            refund -> {
              Sabotage.CRASH_BEFORE_ANSWER.crashHere();
              return refund;
            });
  }

  /**
   * A refund the caller's store requested or that was made on its behalf.
   *
   * @return fails with 404 {@code REFUND_NOT_FOUND} for any other refund
   */
  public Future<Refund> get(Caller caller, UUID refundId) {
    String storeId = caller.principal().requireStore();
    return refunds
        .find(pool, refundId)
        .compose(
            refund ->
                refund != null
                        && (storeId.equals(refund.requestingStoreId())
                            || storeId.equals(refund.originStoreId()))
                    ? Future.succeededFuture(refund)
                    : Future.failedFuture(
                        ProblemException.notFound(
                            "REFUND_NOT_FOUND",
                            "No refund " + refundId + " is visible to your store.")));
  }

  /** Refunds of an order that the caller's store requested or that were made on its behalf. */
  public Future<List<Refund>> list(Caller caller, String orderId) {
    return refunds.listVisible(pool, orderId, caller.principal().requireStore());
  }

  private Future<Reply> replay(IdempotencyRepository.Keyed keyed, byte[] fingerprint) {
    IdempotencyRepository.Record existing = keyed.record();
    if (!existing.sameRequest(fingerprint)) {
      return Future.failedFuture(
          ProblemException.unprocessable(
              "IDEMPOTENCY_KEY_REUSED",
              "This Idempotency-Key was already used for a different refund request; use a new key"
                  + " for a new refund, or resend the original request unchanged."));
    }
    if (existing.inFlight()) {
      return Future.failedFuture(
          ProblemException.conflict(
              "REQUEST_IN_FLIGHT",
              "The first request with this Idempotency-Key is still being processed; retry in a"
                  + " few seconds to get its outcome."));
    }
    if (keyed.refund() != null) {
      return Future.succeededFuture(new Reply(keyed.refund(), true));
    }
    return refunds
        .find(pool, UUID.fromString(existing.resourceId()))
        .map(refund -> new Reply(refund, true));
  }

  /** A concurrent request claimed the same key first: answer as a replay would. */
  private Future<Reply> raced(
      Throwable failure, Principal principal, String idempotencyKey, byte[] fingerprint) {
    if (failure instanceof IdempotencyRepository.KeyTaken) {
      return idempotency
          .findWithRefund(pool, principal.clientId(), idempotencyKey)
          .compose(existing -> replay(existing, fingerprint));
    }
    return Future.failedFuture(failure);
  }

  /**
   * The stores of the chain the refund involves, read once (the requesting store among them, and
   * every candidate origin: {@link StoreRepository#involved}), then the order resolved.
   */
  private Future<Prepared> prepare(Principal principal, RefundRequest request) {
    return stores
        .involved(
            pool,
            principal.chainId(),
            principal.storeId(),
            request.orderId(),
            request.originStoreId())
        .compose(chainStores -> prepareAmong(principal, chainStores, request));
  }

  private Future<Prepared> prepareAmong(
      Principal principal, List<Store> chainStores, RefundRequest request) {
    Store requesting = null;
    for (Store store : chainStores) {
      if (store.storeId().equals(principal.storeId())) {
        requesting = store;
      }
    }
    Future<Store> found =
        requesting != null
            ? Future.succeededFuture(requesting)
            : stores.find(pool, principal.storeId());
    return found
        .compose(store -> open(store, Side.REQUESTING))
        .compose(open -> resolve(principal, open, chainStores, request));
  }

  private Future<Prepared> resolve(
      Principal principal, Store requesting, List<Store> chainStores, RefundRequest request) {
    return resolver
        .resolveAmong(
            pool, chainStores, principal.chainId(), request.orderId(), request.originStoreId())
        .compose(resolved -> gather(principal, requesting, resolved, request));
  }

  /** With both stores known: the caller's per-refund limit, the origin's keys and order. */
  private Future<Prepared> gather(
      Principal principal, Store requesting, ResolvedOrder resolved, RefundRequest request) {
    Store origin = resolved.origin();
    return open(origin, Side.ORIGIN)
        .compose(
            open -> {
              checkPerRefundLimit(requesting, request.amount());
              return credentials.keysFor(origin);
            })
        .compose(keys -> orderFromVipps(principal, resolved, keys))
        .map(
            vippsOrder ->
                new Prepared(requesting, resolved, vippsOrder.credentials(), vippsOrder.order()));
  }

  private record KeysAndOrder(KeysInUse credentials, Order order) {}

  /**
   * For an order the broker has not seen (resolved by prefix), its captured amount from Vipps —
   * read with the origin store's keys, so within the caller's look-up quota.
   */
  private Future<KeysAndOrder> orderFromVipps(
      Principal principal, ResolvedOrder resolved, KeysInUse keys) {
    if (resolved.order() != null) {
      return Future.succeededFuture(new KeysAndOrder(keys, null));
    }
    return lookups
        .take(principal, resolved.origin())
        .compose(allowed -> payments.snapshot(resolved.origin(), resolved.orderId()))
        .map(
            snapshot ->
                new KeysAndOrder(
                    keys,
                    new Order(
                        resolved.origin().storeId(),
                        resolved.orderId(),
                        snapshot.captured(),
                        snapshot.capturedAt(),
                        "VIPPS",
                        "vipps",
                        null)));
  }

  /**
   * The write-ahead, one call to the database ({@link RefundRepository#writeAhead}: its own
   * transaction): the checks under the order's lock, the idempotency claim, the PENDING refund and
   * its audit event. A check that refuses is answered with the same problem as before the checks
   * moved into the database ({@link #refused}).
   */
  private Future<Refund> writeAhead(
      Caller caller,
      String idempotencyKey,
      byte[] fingerprint,
      RefundRequest request,
      Prepared prepared) {
    Store origin = prepared.resolved().origin();
    String orderId = prepared.resolved().orderId();
    // to the microsecond, as the database keeps it: the refund answered is the refund stored
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    UUID refundId = TimeOrderedIds.at(now);
    Refund pending =
        Refund.pending(
            refundId,
            caller.principal(),
            idempotencyKey,
            origin,
            orderId,
            request.amount(),
            request.reason(),
            prepared.credentials(),
            now,
            now.plus(callBudget).truncatedTo(ChronoUnit.MICROS));
    RefundRepository.Checks checks = checks(prepared.requesting(), now);
    return audit
        .seal(caller.actor(), caller.requestId(), RefundTransitions.requested(pending))
        .compose(
            event ->
                refunds.writeAhead(
                    pool,
                    pending,
                    caller.requestId(),
                    checks,
                    OPERATION,
                    fingerprint,
                    prepared.vippsOrder(),
                    event))
        .map(done -> pending)
        .recover(failure -> refused(failure, prepared, request.amount(), now));
  }

  /** The bounds of the write-ahead's checks at {@code now}. */
  RefundRepository.Checks checks(Store requesting, Instant now) {
    RefundLimits limits = requesting.limits();
    Long perDay = limits == null ? null : limits.perDay();
    LocalDate day = LocalDate.ofInstant(now, config.limitZone());
    return new RefundRepository.Checks(
        now.minus(Refundable.WINDOW),
        now.minus(Duration.ofMinutes(1)),
        config.upstreamCallsPerMinute(),
        perDay,
        day.atStartOfDay(config.limitZone()).toInstant(),
        day.plusDays(1).atStartOfDay(config.limitZone()).toInstant());
  }

  /** The problem a refusing check of the write-ahead stands for; other failures unchanged. */
  private Future<Refund> refused(Throwable failure, Prepared prepared, Money amount, Instant now) {
    if (!(failure instanceof SqlErrors.Refused refusal)) {
      return Future.failedFuture(failure);
    }
    JsonObject figures = refusal.figures();
    return Future.failedFuture(
        switch (refusal.code()) {
          case "KEY_TAKEN" -> new IdempotencyRepository.KeyTaken();
          case "STORE_FROZEN" ->
              "requesting".equals(figures.getString("side"))
                  ? frozen(prepared.requesting(), Side.REQUESTING)
                  : frozen(prepared.resolved().origin(), Side.ORIGIN);
          case "ORDER_NOT_FOUND" ->
              ProblemException.notFound("ORDER_NOT_FOUND", "The order disappeared; try again.");
          case "CURRENCY_MISMATCH" -> currencyMismatch(figures.getString("currency"));
          case "REFUND_WINDOW_PASSED" ->
              ProblemException.unprocessable(
                  "REFUND_WINDOW_PASSED",
                  "The payment is more than 365 days old; Vipps no longer accepts refunds for it.");
          case "REFUND_EXCEEDS_REFUNDABLE" ->
              exceedsRefundable(
                  new Money(figures.getLong("captured"), figures.getString("currency")),
                  new RefundRepository.Reserved(
                      figures.getLong("succeeded"), figures.getLong("inFlight")),
                  amount.currency());
          case "TOO_MANY_REFUNDS" ->
              tooManyRefunds(
                  Instant.EPOCH.plus(figures.getLong("oldestMicros"), ChronoUnit.MICROS), now);
          case "LIMIT_EXCEEDED" -> perDayExceeded(prepared.requesting(), figures.getLong("today"));
          default -> new IllegalStateException("refund_write_ahead refused: " + refusal.code());
        });
  }

  private static ProblemException currencyMismatch(String orderCurrency) {
    return ProblemException.unprocessable(
        "CURRENCY_MISMATCH",
        "The order was paid in " + orderCurrency + "; refund it in " + orderCurrency + ".");
  }

  /**
   * The write path's refundable: the order's captured amount minus what the broker itself has
   * refunded or has in flight (see {@link Refundable} for why not Vipps's figures).
   */
  static ProblemException exceedsRefundable(
      Money captured, RefundRepository.Reserved reserved, String currency) {
    Money refundable =
        Refundable.left(
            captured,
            new Money(reserved.succeeded(), currency),
            new Money(reserved.inFlight(), currency));
    return ProblemException.unprocessable(
            "REFUND_EXCEEDS_REFUNDABLE",
            "At most "
                + refundable
                + " of this order can still be refunded (captured "
                + captured
                + ", refunded or in progress "
                + new Money(reserved.total(), currency)
                + ").")
        .with("refundable", refundable.toJson());
  }

  /** Vipps allows a few refund calls per payment per minute; refuse early instead of a 429. */
  ProblemException tooManyRefunds(Instant oldest, Instant now) {
    long wait = Math.max(1, Duration.between(now, oldest.plus(Duration.ofMinutes(1))).toSeconds());
    return new ProblemException(
            429,
            "TOO_MANY_REFUNDS",
            "Too many requests",
            "Vipps accepts "
                + config.upstreamCallsPerMinute()
                + " refund calls per payment per minute; try again in "
                + wait
                + " s.")
        .with("retryAfterSeconds", wait);
  }

  private static ProblemException perDayExceeded(Store requesting, long today) {
    RefundLimits limits = requesting.limits();
    return limitExceeded(
        "Your store may refund at most "
            + new Money(limits.perDay(), limits.currency())
            + " per day; "
            + new Money(today, limits.currency())
            + " is already refunded or in progress today.");
  }

  static void checkPerRefundLimit(Store requesting, Money amount) {
    RefundLimits limits = requesting.limits();
    if (limits == null) {
      return;
    }
    if (!limits.currency().equals(amount.currency())) {
      throw limitExceeded(
          "Your store's refund limits are in "
              + limits.currency()
              + "; refunds in "
              + amount.currency()
              + " are not allowed.");
    }
    if (limits.perRefund() != null && amount.value() > limits.perRefund()) {
      throw limitExceeded(
          "Your store may refund at most "
              + new Money(limits.perRefund(), limits.currency())
              + " per refund.");
    }
  }

  private Future<Refund> callVipps(Caller caller, Refund refund, KeysInUse keys) {
    return vipps
        .refund(callFor(refund, keys))
        .compose(
            outcome -> {
              Sabotage.CRASH_BEFORE_OUTCOME.crashHere();
              return recorder.recordFrom(refund, outcome, caller.actor(), caller.requestId());
            })
        .recover(
            failure -> {
              // Written ahead: whatever failed after the commit, the reconciler finishes it.
              LOG.atWarn()
                  .setMessage("refund outcome not recorded; left to the reconciler")
                  .addKeyValue("refundId", refund.refundId())
                  .addKeyValue("requestId", caller.requestId())
                  .setCause(failure)
                  .log();
              return Future.succeededFuture(refund);
            });
  }

  /**
   * The Vipps call for a refund; byte-identical for every retry and reconciliation. {@code keys}
   * are the refund's recorded key holder's, for the refund's own MSN and API.
   *
   * <p>Only an attempt that cannot have reached Vipps is retried at once: the per-payment limit of
   * refund calls per minute is kept by counting refunds attempted in the last minute (the
   * write-ahead and {@link RefundReconciler}), one call each, so an attempt Vipps may have received
   * (a timeout, a reset, a 429 or 5xx) ends UNKNOWN and the reconciler resends it within that
   * limit.
   */
  static RefundCall callFor(Refund refund, KeysInUse keys) {
    return new RefundCall(
        new KeysInUse(refund.msn(), refund.api(), keys.keys()),
        refund.orderId(),
        refund.amount(),
        refund.upstreamKey(),
        refund.reason(),
        true);
  }

  /** Which side of a refund a frozen store is on. */
  private enum Side {
    REQUESTING,
    ORIGIN
  }

  /** {@code store} when it is not frozen; else fails with 403 {@code STORE_FROZEN}. */
  private static Future<Store> open(Store store, Side side) {
    return store.frozen()
        ? Future.failedFuture(frozen(store, side))
        : Future.succeededFuture(store);
  }

  private static ProblemException frozen(Store store, Side side) {
    String detail =
        side == Side.REQUESTING
            ? "Your store '"
                + store.storeId()
                + "' is frozen (the requesting store): it cannot request refunds until an admin"
                + " unfreezes it."
            : "Refunds of payments taken in store '"
                + store.storeId()
                + "' are suspended (the origin store is frozen); ask an admin.";
    return new ProblemException(403, "STORE_FROZEN", "Forbidden", detail)
        .with("frozen", side.name().toLowerCase(Locale.ROOT))
        .with("frozenStoreId", store.storeId());
  }

  private static ProblemException limitExceeded(String detail) {
    return ProblemException.unprocessable("LIMIT_EXCEEDED", detail);
  }

  static byte[] fingerprint(RefundRequest request) {
    try {
      return MessageDigest.getInstance("SHA-256")
          .digest(CanonicalJson.encode(request.toJson()).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
