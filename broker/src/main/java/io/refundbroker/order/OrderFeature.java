package io.refundbroker.order;

import io.refundbroker.audit.AuditLog;
import io.refundbroker.credential.CredentialProvider;
import io.refundbroker.http.Api;
import io.refundbroker.http.Feature;
import io.refundbroker.store.StoreRepository;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.sqlclient.Pool;
import java.time.Clock;

/**
 * The order feature: registration, the till's order view and the admin's CSV import. It also hands
 * the refund feature what a refund needs of an order — the resolver, the order lock, the payment
 * look-up and the look-up quota — which are order's public API for {@code refund}.
 */
public final class OrderFeature implements Feature {
  private final OrderRepository orders;
  private final OrderResolver resolver;
  private final PaymentLookup payments;
  private final LookupQuota lookups;
  private final OrderService service;
  private final OrderImport imports;

  private OrderFeature(
      OrderRepository orders,
      OrderResolver resolver,
      PaymentLookup payments,
      LookupQuota lookups,
      OrderService service,
      OrderImport imports) {
    this.orders = orders;
    this.resolver = resolver;
    this.payments = payments;
    this.lookups = lookups;
    this.service = service;
    this.imports = imports;
  }

  /**
   * @param balances what is left to refund of an order (the refund feature's rule)
   * @param lookupsPerMinute {@code ORDER_LOOKUPS_PER_MINUTE}
   */
  public static OrderFeature create(
      Pool pool,
      StoreRepository stores,
      RefundBalance balances,
      CredentialProvider credentials,
      VippsGateway vipps,
      AuditLog audit,
      Clock clock,
      int lookupsPerMinute) {
    OrderRepository orders = new OrderRepository();
    OrderResolver resolver = new OrderResolver(stores, orders);
    PaymentLookup payments = new PaymentLookup(credentials, vipps);
    LookupQuota lookups = new LookupQuota(lookupsPerMinute, clock);
    return new OrderFeature(
        orders,
        resolver,
        payments,
        lookups,
        new OrderService(pool, orders, balances, resolver, payments, lookups, audit, clock),
        new OrderImport(pool, stores, orders, audit, clock));
  }

  public OrderRepository orders() {
    return orders;
  }

  public OrderResolver resolver() {
    return resolver;
  }

  public PaymentLookup payments() {
    return payments;
  }

  public LookupQuota lookups() {
    return lookups;
  }

  @Override
  public void mount(Api api) {
    new OrderRoutes(service, imports).mount(api);
  }
}
