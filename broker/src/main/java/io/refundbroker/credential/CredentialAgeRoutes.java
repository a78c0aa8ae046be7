package io.refundbroker.credential;

import io.refundbroker.http.Api;
import io.refundbroker.http.Query;
import io.refundbroker.http.Responses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /v1/admin/credentials}: every store's key version and age (never the keys). */
public final class CredentialAgeRoutes {
  private final CredentialAges ages;

  public CredentialAgeRoutes(CredentialAges ages) {
    this.ages = ages;
  }

  public void mount(Api api) {
    api.operation("listCredentialAges", this::list);
  }

  private void list(RoutingContext ctx) {
    String chainId = Query.string(Api.validated(ctx), "chainId");
    ages.list(chainId)
        .onSuccess(
            list -> {
              JsonArray items = new JsonArray();
              list.forEach(age -> items.add(age.toJson()));
              Responses.ok(
                  ctx,
                  new JsonObject()
                      .put("maxAgeSeconds", ages.maxAge().toSeconds())
                      .put("stores", items));
            })
        .onFailure(ctx::fail);
  }
}
