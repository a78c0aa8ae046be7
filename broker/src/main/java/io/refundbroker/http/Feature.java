package io.refundbroker.http;

import io.vertx.core.Deployable;
import java.util.List;

/**
 * What one feature adds to a running broker: its operations on the contract and its background
 * work. Each feature package has a small factory that builds its services and returns one of these;
 * {@code app.BrokerApp} mounts every feature's routes on each HTTP verticle's router and deploys
 * their verticles (before the HTTP verticles, and undeploys them after, in reverse order).
 */
public interface Feature {

  /** Binds this feature's operations (by {@code operationId}) on {@code api}. */
  void mount(Api api);

  /** The verticles that do this feature's background work, in the order to deploy them. */
  default List<Deployable> verticles() {
    return List.of();
  }
}
