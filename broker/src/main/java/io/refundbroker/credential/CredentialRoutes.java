package io.refundbroker.credential;

import io.refundbroker.config.Secret;
import io.refundbroker.http.Api;
import io.refundbroker.http.Callers;
import io.refundbroker.http.Query;
import io.refundbroker.http.Responses;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.validation.ValidatedRequest;

/** Admin endpoints for a store's Vipps keys: rotate, list versions, roll back. */
public final class CredentialRoutes {
  private final CredentialService credentials;

  public CredentialRoutes(CredentialService credentials) {
    this.credentials = credentials;
  }

  public void mount(Api api) {
    api.operation("rotateCredentials", this::rotate)
        .operation("listCredentialVersions", this::list)
        .operation("rollbackCredentials", this::rollback);
  }

  private void rotate(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    JsonObject body = request.getBody().getJsonObject();
    KeySet keys =
        new KeySet(
            body.getString("clientId"),
            Secret.of(body.getString("clientSecret")),
            Secret.of(body.getString("subscriptionKey")));
    credentials
        .rotate(Callers.of(ctx), storeId(request), keys, validate(request))
        .onSuccess(rotation -> Responses.ok(ctx, rotation.toJson()))
        .onFailure(ctx::fail);
  }

  private void list(RoutingContext ctx) {
    credentials
        .history(storeId(Api.validated(ctx)))
        .onSuccess(history -> Responses.ok(ctx, history))
        .onFailure(ctx::fail);
  }

  private void rollback(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    int version = request.getBody().getJsonObject().getInteger("version");
    credentials
        .rollback(Callers.of(ctx), storeId(request), version, validate(request))
        .onSuccess(rotation -> Responses.ok(ctx, rotation.toJson()))
        .onFailure(ctx::fail);
  }

  private static String storeId(ValidatedRequest request) {
    return request.getPathParameters().get("storeId").getString();
  }

  private static boolean validate(ValidatedRequest request) {
    return Query.bool(request, "validate", true);
  }
}
