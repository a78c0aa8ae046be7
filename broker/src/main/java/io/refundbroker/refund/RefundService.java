package io.refundbroker.refund;

import io.refundbroker.audit.AuditLog;
import io.refundbroker.audit.CanonicalJson;
import io.refundbroker.caller.Caller;
import io.refundbroker.caller.Principal;
import io.refundbroker.config.BrokerConfig.RefundConfig;
import io.refundbroker.credential.CredentialProvider;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.db.Transactions;
import io.refundbroker.error.ProblemException;
import io.refundbroker.money.Money;
import io.refundbroker.order.LookupQuota;
import io.refundbroker.order.Order;
import io.refundbroker.order.OrderRepository;
import io.refundbroker.order.OrderResolver;
import io.refundbroker.order.PaymentLookup;
import io.refundbroker.order.ResolvedOrder;
import io.refundbroker.store.RefundLimits;
import io.refundbroker.store.Store;
import io.refundbroker.store.StoreRepository;
import io.refundbroker.vipps.RefundCall;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
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
 * transaction checks again that neither store is frozen, locks the order, checks the amount against
 * captured − (succeeded + pending + unknown), claims the idempotency key, inserts the refund as
 * PENDING and appends its audit event — committed before Vipps is called. The Vipps answer is
 * recorded by {@link RefundRecorder}; anything not known for sure is left to the {@link
 * RefundReconciler}.
 */
public final class RefundService {
  private static final Logger LOG = LoggerFactory.getLogger(RefundService.class);
  static final String OPERATION = "refund";

  private final Pool pool;
  private final StoreRepository stores;
  private final OrderRepository orders;
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
      Store requesting, ResolvedOrder resolved, StoreCredentials credentials, Order vippsOrder) {}

  public RefundService(
      Pool pool,
      StoreRepository stores,
      OrderRepository orders,
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
    this.orders = orders;
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
        .find(pool, principal.clientId(), idempotencyKey)
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
        .compose(refund -> callVipps(caller, refund, prepared.credentials()));
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

  private Future<Reply> replay(IdempotencyRepository.Record existing, byte[] fingerprint) {
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
    return refunds
        .find(pool, UUID.fromString(existing.resourceId()))
        .map(refund -> new Reply(refund, true));
  }

  /** A concurrent request claimed the same key first: answer as a replay would. */
  private Future<Reply> raced(
      Throwable failure, Principal principal, String idempotencyKey, byte[] fingerprint) {
    if (failure instanceof IdempotencyRepository.KeyTaken) {
      return idempotency
          .find(pool, principal.clientId(), idempotencyKey)
          .compose(existing -> replay(existing, fingerprint));
    }
    return Future.failedFuture(failure);
  }

  private Future<Prepared> prepare(Principal principal, RefundRequest request) {
    return stores
        .find(pool, principal.storeId())
        .compose(requesting -> open(requesting, Side.REQUESTING))
        .compose(requesting -> resolve(principal, requesting, request));
  }

  private Future<Prepared> resolve(Principal principal, Store requesting, RefundRequest request) {
    return resolver
        .resolve(pool, principal.chainId(), request.orderId(), request.originStoreId())
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
              return credentials.current(origin.msn());
            })
        .compose(keys -> orderFromVipps(principal, resolved, keys))
        .map(
            vippsOrder ->
                new Prepared(requesting, resolved, vippsOrder.credentials(), vippsOrder.order()));
  }

  private record KeysAndOrder(StoreCredentials credentials, Order order) {}

  /**
   * For an order the broker has not seen (resolved by prefix), its captured amount from Vipps —
   * read with the origin store's keys, so within the caller's look-up quota.
   */
  private Future<KeysAndOrder> orderFromVipps(
      Principal principal, ResolvedOrder resolved, StoreCredentials keys) {
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

  private Future<Refund> writeAhead(
      Caller caller,
      String idempotencyKey,
      byte[] fingerprint,
      RefundRequest request,
      Prepared prepared) {
    Store origin = prepared.resolved().origin();
    String orderId = prepared.resolved().orderId();
    Instant now = clock.instant();
    UUID refundId = UUID.randomUUID();
    Refund pending =
        Refund.pending(
            refundId,
            caller.principal(),
            idempotencyKey,
            origin,
            orderId,
            request.amount(),
            request.reason(),
            prepared.credentials().version(),
            now,
            now.plus(callBudget));
    return Transactions.run(
        pool,
        tx ->
            ensureOrder(tx, prepared)
                .compose(v -> checkNoneFrozen(tx, prepared.requesting(), origin))
                .compose(v -> orders.lock(tx, origin.storeId(), orderId))
                .compose(order -> checkOrder(tx, order, request.amount(), now))
                .compose(v -> checkPaymentRate(tx, origin.msn(), orderId, now))
                .compose(v -> checkPerDayLimit(tx, prepared.requesting(), request.amount(), now))
                .compose(
                    v ->
                        idempotency.insertInFlight(
                            tx,
                            caller.principal().clientId(),
                            idempotencyKey,
                            OPERATION,
                            fingerprint,
                            refundId.toString(),
                            now))
                .compose(v -> refunds.insert(tx, pending, caller.requestId(), now))
                .compose(
                    refund ->
                        audit.record(tx, caller, RefundTransitions.requested(refund), refund)));
  }

  private Future<Void> ensureOrder(SqlConnection tx, Prepared prepared) {
    Order fromVipps = prepared.vippsOrder();
    return fromVipps == null
        ? Future.succeededFuture()
        : orders.insertIfAbsent(tx, fromVipps).mapEmpty();
  }

  /**
   * Neither store is frozen, read inside the write-ahead transaction: a store frozen after {@link
   * #prepare} looked at it still stops the refund before it is written (and before Vipps is
   * called).
   */
  private Future<Void> checkNoneFrozen(SqlConnection tx, Store requesting, Store origin) {
    return stores
        .frozenAmong(tx, requesting.storeId(), origin.storeId())
        .compose(
            frozen -> {
              if (frozen.contains(requesting.storeId())) {
                return Future.failedFuture(frozen(requesting, Side.REQUESTING));
              }
              if (frozen.contains(origin.storeId())) {
                return Future.failedFuture(frozen(origin, Side.ORIGIN));
              }
              return Future.succeededFuture();
            });
  }

  /** With the order locked: same currency, within the window, enough left. */
  private Future<Void> checkOrder(SqlConnection tx, Order order, Money amount, Instant now) {
    if (order == null) {
      return Future.failedFuture(
          ProblemException.notFound("ORDER_NOT_FOUND", "The order disappeared; try again."));
    }
    if (!order.amount().currency().equals(amount.currency())) {
      return Future.failedFuture(
          ProblemException.unprocessable(
              "CURRENCY_MISMATCH",
              "The order was paid in "
                  + order.amount().currency()
                  + "; refund it in "
                  + order.amount().currency()
                  + "."));
    }
    if (Refundable.windowPassed(order.capturedAt(), now)) {
      return Future.failedFuture(
          ProblemException.unprocessable(
              "REFUND_WINDOW_PASSED",
              "The payment is more than 365 days old; Vipps no longer accepts refunds for it."));
    }
    return refunds
        .reserved(tx, order.storeId(), order.orderId())
        .compose(reserved -> checkRefundable(order, amount, reserved));
  }

  /**
   * The write path's refundable: the order's captured amount minus what the broker itself has
   * refunded or has in flight (see {@link Refundable} for why not Vipps's figures).
   */
  private static Future<Void> checkRefundable(
      Order order, Money amount, RefundRepository.Reserved reserved) {
    String currency = amount.currency();
    Money refundable =
        Refundable.left(
            order.amount(),
            new Money(reserved.succeeded(), currency),
            new Money(reserved.inFlight(), currency));
    if (amount.value() <= refundable.value()) {
      return Future.succeededFuture();
    }
    return Future.failedFuture(
        ProblemException.unprocessable(
                "REFUND_EXCEEDS_REFUNDABLE",
                "At most "
                    + refundable
                    + " of this order can still be refunded (captured "
                    + order.amount()
                    + ", refunded or in progress "
                    + new Money(reserved.total(), currency)
                    + ").")
            .with("refundable", refundable.toJson()));
  }

  /** Vipps allows a few refund calls per payment per minute; refuse early instead of a 429. */
  private Future<Void> checkPaymentRate(SqlConnection tx, String msn, String orderId, Instant now) {
    return refunds
        .recentCalls(tx, msn, orderId, now.minus(Duration.ofMinutes(1)))
        .compose(
            recent -> {
              if (recent.calls() < config.upstreamCallsPerMinute()) {
                return Future.succeededFuture();
              }
              long wait =
                  Math.max(
                      1,
                      Duration.between(now, recent.oldest().plus(Duration.ofMinutes(1)))
                          .toSeconds());
              return Future.failedFuture(
                  new ProblemException(
                          429,
                          "TOO_MANY_REFUNDS",
                          "Too many requests",
                          "Vipps accepts "
                              + config.upstreamCallsPerMinute()
                              + " refund calls per payment per minute; try again in "
                              + wait
                              + " s.")
                      .with("retryAfterSeconds", wait));
            });
  }

  private static void checkPerRefundLimit(Store requesting, Money amount) {
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

  /** Per-day limit, atomically: the requesting store's row is locked while its day is summed. */
  private Future<Void> checkPerDayLimit(
      SqlConnection tx, Store requesting, Money amount, Instant now) {
    RefundLimits limits = requesting.limits();
    if (limits == null || limits.perDay() == null) {
      return Future.succeededFuture();
    }
    LocalDate day = LocalDate.ofInstant(now, config.limitZone());
    Instant from = day.atStartOfDay(config.limitZone()).toInstant();
    Instant to = day.plusDays(1).atStartOfDay(config.limitZone()).toInstant();
    return stores
        .findForUpdate(tx, requesting.storeId())
        .compose(
            locked ->
                refunds.requestedInPeriod(tx, requesting.storeId(), amount.currency(), from, to))
        .compose(
            today ->
                today + amount.value() > limits.perDay()
                    ? Future.failedFuture(
                        limitExceeded(
                            "Your store may refund at most "
                                + new Money(limits.perDay(), limits.currency())
                                + " per day; "
                                + new Money(today, limits.currency())
                                + " is already refunded or in progress today."))
                    : Future.succeededFuture());
  }

  private Future<Refund> callVipps(Caller caller, Refund refund, StoreCredentials keys) {
    return vipps
        .refund(callFor(refund, keys))
        .compose(
            outcome ->
                recorder.record(refund.refundId(), outcome, caller.actor(), caller.requestId()))
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

  /** The Vipps call for a refund; byte-identical for every retry and reconciliation. */
  static RefundCall callFor(Refund refund, StoreCredentials keys) {
    return new RefundCall(
        keys.inUse(refund.api()),
        refund.orderId(),
        refund.amount(),
        refund.upstreamKey(),
        refund.reason());
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
