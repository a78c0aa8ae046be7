package io.refundbroker.refund;

import io.refundbroker.audit.AuditLog;
import io.refundbroker.config.BrokerConfig.RefundConfig;
import io.refundbroker.credential.CredentialProvider;
import io.refundbroker.http.Api;
import io.refundbroker.http.Feature;
import io.refundbroker.order.OrderFeature;
import io.refundbroker.store.StoreRepository;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Deployable;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * The refund feature: the stores' refund endpoints, the write-ahead refund flow and the reconciler
 * that settles what the flow could not. Build {@link #balances} first: the order feature's view
 * asks it what is left to refund.
 */
public final class RefundFeature implements Feature {
  private final RefundService service;
  private final RefundReconciler reconciler;
  private final Duration interval;

  private RefundFeature(RefundService service, RefundReconciler reconciler, Duration interval) {
    this.service = service;
    this.reconciler = reconciler;
    this.interval = interval;
  }

  /** The refunds table's answer to "how much is left", for the order view. */
  public static Refundable balances(RefundRepository refunds) {
    return new Refundable(refunds);
  }

  /**
   * @param orders the order feature (resolver, order lock, payment look-up and quota)
   * @param callBudget the longest one Vipps call with its retries may take: a written-ahead refund
   *     is left to the reconciler only after it
   */
  public static RefundFeature create(
      Pool pool,
      RefundRepository refunds,
      StoreRepository stores,
      OrderFeature orders,
      CredentialProvider credentials,
      VippsGateway vipps,
      AuditLog audit,
      Clock clock,
      RefundConfig config,
      Duration callBudget) {
    IdempotencyRepository idempotency = new IdempotencyRepository();
    RefundRecorder recorder =
        new RefundRecorder(pool, refunds, idempotency, audit, clock, config.reconcilerInterval());
    RefundService service =
        new RefundService(
            pool,
            stores,
            orders.resolver(),
            orders.payments(),
            orders.lookups(),
            refunds,
            idempotency,
            credentials,
            vipps,
            recorder,
            audit,
            clock,
            config,
            callBudget);
    RefundReconciler reconciler =
        new RefundReconciler(
            pool, refunds, recorder, credentials, vipps, clock, config, callBudget);
    return new RefundFeature(service, reconciler, config.reconcilerInterval());
  }

  /** The janitor (tests run passes with {@link RefundReconciler#runOnce()}). */
  public RefundReconciler reconciler() {
    return reconciler;
  }

  @Override
  public void mount(Api api) {
    new RefundRoutes(service).mount(api);
  }

  @Override
  public List<Deployable> verticles() {
    return List.of(new RefundReconcilerVerticle(reconciler, interval));
  }
}
