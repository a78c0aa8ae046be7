package io.refundbroker.http;

import io.refundbroker.caller.Caller;
import io.refundbroker.caller.Principal;
import io.vertx.ext.web.RoutingContext;

/** Where a request keeps its authenticated principal, and the {@link Caller} handlers pass on. */
public final class Callers {
  private static final String KEY = "principal";

  private Callers() {}

  /** The caller of an authenticated request. */
  public static Caller of(RoutingContext ctx) {
    Principal principal = principal(ctx);
    if (principal == null) {
      throw new IllegalStateException("operation reached a handler without authentication");
    }
    return new Caller(principal, RequestIds.of(ctx));
  }

  /** The principal of an authenticated request, or null before authentication. */
  public static Principal principal(RoutingContext ctx) {
    return ctx.get(KEY);
  }

  /** Records who sent the request (the authenticator does, once it is sure). */
  public static void attach(RoutingContext ctx, Principal principal) {
    ctx.put(KEY, principal);
  }
}
