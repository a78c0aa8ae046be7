package io.refundbroker.credential;

import io.refundbroker.config.Secret;
import io.refundbroker.http.Api;
import io.refundbroker.http.Callers;
import io.refundbroker.http.Query;
import io.refundbroker.http.Responses;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.validation.ValidatedRequest;

/**
 * Admin endpoints for Vipps keys: rotate, list versions, roll back — of a store's sales unit (by
 * store or by MSN) and of a partner.
 */
public final class CredentialRoutes {
  private final CredentialService credentials;

  public CredentialRoutes(CredentialService credentials) {
    this.credentials = credentials;
  }

  public void mount(Api api) {
    api.operation("rotateCredentials", this::rotate)
        .operation("listCredentialVersions", this::list)
        .operation("rollbackCredentials", this::rollback)
        .operation("rotateSalesUnitCredentials", this::rotateSalesUnit)
        .operation("listSalesUnitCredentialVersions", this::listSalesUnit)
        .operation("rollbackSalesUnitCredentials", this::rollbackSalesUnit)
        .operation("rotatePartnerCredentials", this::rotatePartner)
        .operation("listPartnerCredentialVersions", this::listPartner)
        .operation("rollbackPartnerCredentials", this::rollbackPartner);
  }

  private void rotate(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    credentials
        .rotate(Callers.of(ctx), path(request, "storeId"), keys(request), validate(request))
        .onSuccess(rotation -> Responses.ok(ctx, rotation.toJson()))
        .onFailure(ctx::fail);
  }

  private void list(RoutingContext ctx) {
    credentials
        .history(path(Api.validated(ctx), "storeId"))
        .onSuccess(history -> Responses.ok(ctx, history))
        .onFailure(ctx::fail);
  }

  private void rollback(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    credentials
        .rollback(Callers.of(ctx), path(request, "storeId"), version(request), validate(request))
        .onSuccess(rotation -> Responses.ok(ctx, rotation.toJson()))
        .onFailure(ctx::fail);
  }

  private void rotateSalesUnit(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    credentials
        .rotateSalesUnit(Callers.of(ctx), path(request, "msn"), keys(request), validate(request))
        .onSuccess(rotation -> Responses.ok(ctx, rotation.toJson()))
        .onFailure(ctx::fail);
  }

  private void listSalesUnit(RoutingContext ctx) {
    credentials
        .salesUnitHistory(path(Api.validated(ctx), "msn"))
        .onSuccess(history -> Responses.ok(ctx, history))
        .onFailure(ctx::fail);
  }

  private void rollbackSalesUnit(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    credentials
        .rollbackSalesUnit(
            Callers.of(ctx), path(request, "msn"), version(request), validate(request))
        .onSuccess(rotation -> Responses.ok(ctx, rotation.toJson()))
        .onFailure(ctx::fail);
  }

  private void rotatePartner(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    credentials
        .rotatePartner(
            Callers.of(ctx), path(request, "partnerId"), keys(request), validate(request))
        .onSuccess(rotation -> Responses.ok(ctx, rotation.toJson()))
        .onFailure(ctx::fail);
  }

  private void listPartner(RoutingContext ctx) {
    credentials
        .partnerHistory(path(Api.validated(ctx), "partnerId"))
        .onSuccess(history -> Responses.ok(ctx, history))
        .onFailure(ctx::fail);
  }

  private void rollbackPartner(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    credentials
        .rollbackPartner(
            Callers.of(ctx), path(request, "partnerId"), version(request), validate(request))
        .onSuccess(rotation -> Responses.ok(ctx, rotation.toJson()))
        .onFailure(ctx::fail);
  }

  private static KeySet keys(ValidatedRequest request) {
    JsonObject body = request.getBody().getJsonObject();
    return new KeySet(
        body.getString("clientId"),
        Secret.of(body.getString("clientSecret")),
        Secret.of(body.getString("subscriptionKey")));
  }

  private static int version(ValidatedRequest request) {
    return request.getBody().getJsonObject().getInteger("version");
  }

  private static String path(ValidatedRequest request, String name) {
    return request.getPathParameters().get(name).getString();
  }

  private static boolean validate(ValidatedRequest request) {
    return Query.bool(request, "validate", true);
  }
}
