package io.refundbroker.order;

import io.refundbroker.audit.AuditEvent;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.caller.Caller;
import io.refundbroker.caller.Principal;
import io.refundbroker.db.Transactions;
import io.refundbroker.error.ProblemException;
import io.refundbroker.money.Money;
import io.refundbroker.store.Store;
import io.refundbroker.vipps.PaymentSnapshot;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** Registers sales, and tells a till what can still be refunded of an order. */
public final class OrderService {
  private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);

  private final Pool pool;
  private final OrderRegistry registry;
  private final RefundBalance balances;
  private final OrderResolver resolver;
  private final PaymentLookup payments;
  private final LookupQuota lookups;
  private final AuditLog audit;
  private final Clock clock;

  public OrderService(
      Pool pool,
      OrderRepository orders,
      RefundBalance balances,
      OrderResolver resolver,
      PaymentLookup payments,
      LookupQuota lookups,
      AuditLog audit,
      Clock clock) {
    this.pool = pool;
    this.registry = new OrderRegistry(orders);
    this.balances = balances;
    this.resolver = resolver;
    this.payments = payments;
    this.lookups = lookups;
    this.audit = audit;
    this.clock = clock;
  }

  /** The outcome of a registration: the order and whether this call created it. */
  public record Registration(Order order, boolean created) {}

  /**
   * Registers a completed sale of the caller's store. The same sale again is a no-op.
   *
   * @return the order; fails with 409 {@code ORDER_CONFLICT} when the store already registered this
   *     order id with other data, 409 {@code ORDER_ID_RESERVED} when the id carries another store's
   *     order-id prefix, 400 {@code CAPTURED_IN_FUTURE}
   */
  public Future<Registration> register(
      Caller caller, String orderId, Money amount, Instant capturedAt) {
    String storeId = caller.principal().requireStore();
    if (capturedAt != null && capturedAt.isAfter(clock.instant().plus(CLOCK_SKEW))) {
      return Future.failedFuture(
          ProblemException.badRequest(
              "CAPTURED_IN_FUTURE",
              "capturedAt lies in the future; send the capture time in UTC."));
    }
    // A till registers a sale as it completes: without a capture time, that moment is it.
    Instant captured =
        capturedAt != null ? capturedAt : clock.instant().truncatedTo(ChronoUnit.MICROS);
    Order draft =
        new Order(
            storeId, orderId, amount, captured, "REGISTERED", caller.principal().clientId(), null);
    return Transactions.run(
        pool,
        tx ->
            resolver
                .checkNotReserved(tx, caller.principal().chainId(), storeId, orderId)
                .compose(free -> registry.write(tx, draft, capturedAt != null))
                .compose(written -> answer(tx, caller, written)));
  }

  /** A new order is audited; the same sale again is answered as it is; another sale conflicts. */
  private Future<Registration> answer(
      SqlConnection tx, Caller caller, OrderRegistry.Written written) {
    Order order = written.order();
    if (written instanceof OrderRegistry.Created) {
      return audit.record(
          tx,
          caller,
          AuditEvent.success(
              "order.registered",
              "order",
              order.storeId() + "/" + order.orderId(),
              caller.principal().chainId(),
              order.toJson()),
          new Registration(order, true));
    }
    if (written instanceof OrderRegistry.Unchanged) {
      return Future.succeededFuture(new Registration(order, false));
    }
    return Future.failedFuture(
        ProblemException.conflict(
            "ORDER_CONFLICT",
            "Your store already registered order '"
                + order.orderId()
                + "' with a different amount or capture time ("
                + order.amount()
                + "). Order ids are unique per store."));
  }

  /**
   * What can still be refunded of an order in the caller's chain: Vipps's captured and refunded
   * amounts (read with the origin store's credentials, briefly cached) minus refunds still in
   * flight here.
   *
   * @return the view; fails with 404 {@code ORDER_NOT_FOUND}, 409 {@code ORDER_AMBIGUOUS}, 429
   *     {@code TOO_MANY_LOOKUPS} (another store's payment, over the caller's {@link LookupQuota}),
   *     503 {@code CREDENTIALS_UNAVAILABLE} or a Vipps problem
   */
  public Future<JsonObject> view(Caller caller, String orderId, String originStoreId) {
    Principal principal = caller.principal();
    principal.requireStore();
    return resolver
        .resolve(pool, principal.chainId(), orderId, originStoreId)
        .compose(resolved -> read(principal, resolved));
  }

  /** The payment from Vipps (within the caller's look-up quota) and what is in flight here. */
  private Future<JsonObject> read(Principal principal, ResolvedOrder resolved) {
    Store origin = resolved.origin();
    return lookups
        .take(principal, origin)
        .compose(allowed -> payments.snapshot(origin, resolved.orderId()))
        .compose(snapshot -> balance(resolved, snapshot));
  }

  private Future<JsonObject> balance(ResolvedOrder resolved, PaymentSnapshot snapshot) {
    Instant capturedAt =
        resolved.order() != null && resolved.order().capturedAt() != null
            ? resolved.order().capturedAt()
            : snapshot.capturedAt();
    return balances
        .of(
            pool,
            resolved.origin().storeId(),
            resolved.orderId(),
            snapshot.captured(),
            snapshot.refunded(),
            capturedAt)
        .map(balance -> describe(resolved, snapshot, balance));
  }

  private static JsonObject describe(
      ResolvedOrder resolved, PaymentSnapshot snapshot, RefundBalance.Balance balance) {
    Money captured = snapshot.captured();
    JsonObject view =
        new JsonObject()
            .put("orderId", resolved.orderId())
            .put("originStoreId", resolved.origin().storeId())
            .put("originStoreName", resolved.origin().name())
            .put("currency", captured.currency())
            .put("captured", captured.toJson())
            .put("refunded", snapshot.refunded().toJson())
            .put("inFlight", balance.inFlight().toJson())
            .put("refundable", balance.refundable().toJson())
            .put("registered", resolved.order() != null);
    if (balance.refundableUntil() != null) {
      view.put("refundableUntil", balance.refundableUntil().toString());
    }
    return view;
  }
}
