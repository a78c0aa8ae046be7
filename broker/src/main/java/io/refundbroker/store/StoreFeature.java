package io.refundbroker.store;

import io.refundbroker.audit.AuditLog;
import io.refundbroker.http.Api;
import io.refundbroker.http.Feature;
import io.vertx.sqlclient.Pool;

/** The store feature: the admin's store endpoints over {@link StoreService}. */
public final class StoreFeature implements Feature {
  private final StoreService service;

  private StoreFeature(StoreService service) {
    this.service = service;
  }

  public static StoreFeature create(Pool pool, StoreRepository stores, AuditLog audit) {
    return new StoreFeature(new StoreService(pool, stores, audit));
  }

  /** The stores, for the features that look them up (credential, refund). */
  public StoreService service() {
    return service;
  }

  @Override
  public void mount(Api api) {
    new StoreRoutes(service).mount(api);
  }
}
