package io.refundbroker.auth;

import io.refundbroker.caller.Principal;
import io.refundbroker.http.Api;
import io.refundbroker.http.Callers;
import io.refundbroker.http.Responses;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /v1/me}: who the caller is (client, role, store). The console signs in with it: it
 * learns the role a token (or, later, a client certificate) has without trying operations it may
 * not use. Never returns a token or a secret.
 */
public final class CallerRoutes {

  public void mount(Api api) {
    api.operation("getCaller", this::caller);
  }

  private void caller(RoutingContext ctx) {
    Principal principal = Callers.of(ctx).principal();
    JsonObject json =
        new JsonObject()
            .put("clientId", principal.clientId())
            .put("name", principal.name())
            .put("role", principal.role().name());
    if (principal.storeId() != null) {
      json.put("storeId", principal.storeId());
    }
    if (principal.chainId() != null) {
      json.put("chainId", principal.chainId());
    }
    Responses.ok(ctx, json);
  }
}
