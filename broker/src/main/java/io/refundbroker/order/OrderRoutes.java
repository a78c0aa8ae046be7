package io.refundbroker.order;

import io.refundbroker.error.ProblemException;
import io.refundbroker.http.Api;
import io.refundbroker.http.Callers;
import io.refundbroker.http.Query;
import io.refundbroker.http.Responses;
import io.refundbroker.http.Times;
import io.refundbroker.money.Money;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.validation.ValidatedRequest;
import java.time.Instant;

/** Store endpoints for orders, and the admin bulk import. */
public final class OrderRoutes {
  private final OrderService orders;
  private final OrderImport imports;

  public OrderRoutes(OrderService orders, OrderImport imports) {
    this.orders = orders;
    this.imports = imports;
  }

  public void mount(Api api) {
    api.operation("registerOrder", this::registerOrder)
        .operation("getOrder", this::getOrder)
        .operation("importOrders", this::importOrders);
  }

  private void registerOrder(RoutingContext ctx) {
    JsonObject body = Api.validated(ctx).getBody().getJsonObject();
    Instant capturedAt;
    try {
      capturedAt = Times.parseOptional(body.getString("capturedAt"), "capturedAt");
    } catch (ProblemException e) {
      ctx.fail(e);
      return;
    }
    orders
        .register(
            Callers.of(ctx),
            body.getString("orderId"),
            Money.fromJson(body.getJsonObject("amount")),
            capturedAt)
        .onSuccess(
            registration ->
                Responses.json(
                    ctx, registration.created() ? 201 : 200, registration.order().toJson()))
        .onFailure(ctx::fail);
  }

  private void getOrder(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    orders
        .view(
            Callers.of(ctx),
            request.getPathParameters().get("orderId").getString(),
            Query.string(request, "originStoreId"))
        .onSuccess(view -> Responses.ok(ctx, view))
        .onFailure(ctx::fail);
  }

  private void importOrders(RoutingContext ctx) {
    String csv = ctx.body().asString();
    imports
        .importCsv(Callers.of(ctx), csv == null ? "" : csv)
        .onSuccess(report -> Responses.ok(ctx, report))
        .onFailure(ctx::fail);
  }
}
