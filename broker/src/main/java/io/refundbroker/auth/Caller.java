package io.refundbroker.auth;

import io.refundbroker.audit.Actor;
import io.refundbroker.http.RequestIds;
import io.vertx.ext.web.RoutingContext;

/** Who asked (the authenticated principal) and under which request id. Passed to services. */
public record Caller(Principal principal, String requestId) {

  public static Caller of(RoutingContext ctx) {
    Principal principal = Principal.of(ctx);
    if (principal == null) {
      throw new IllegalStateException("operation reached a handler without authentication");
    }
    return new Caller(principal, RequestIds.of(ctx));
  }

  /** The actor recorded in audit events. */
  public Actor actor() {
    return new Actor(principal.clientId(), principal.role().name(), principal.storeId());
  }
}
