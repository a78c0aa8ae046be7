package io.refundbroker.auth;

import io.refundbroker.http.ProblemException;
import io.vertx.ext.web.RoutingContext;

/**
 * The authenticated API client behind a request. {@code storeId} and {@code chainId} are set for
 * (and only for) {@link Role#STORE} clients.
 */
public record Principal(String clientId, String name, Role role, String storeId, String chainId) {
  static final String KEY = "principal";

  /** The principal of an authenticated request, or null before authentication. */
  public static Principal of(RoutingContext ctx) {
    return ctx.get(KEY);
  }

  /** The store a STORE client acts for. */
  public String requireStore() {
    if (role != Role.STORE || storeId == null) {
      throw ProblemException.forbidden("Only a store's token can do this.");
    }
    return storeId;
  }
}
