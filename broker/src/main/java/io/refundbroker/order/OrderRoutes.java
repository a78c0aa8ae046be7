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
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/** Store endpoints for orders, and the admin bulk import. */
public final class OrderRoutes {
  private final OrderService orders;
  private final OrderImport imports;
  private final OrderSearch search;

  public OrderRoutes(OrderService orders, OrderImport imports, OrderSearch search) {
    this.orders = orders;
    this.imports = imports;
    this.search = search;
  }

  public void mount(Api api) {
    api.operation("registerOrder", this::registerOrder)
        .operation("getOrder", this::getOrder)
        .operation("searchOrders", this::searchOrders)
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

  private void searchOrders(RoutingContext ctx) {
    OrderSearchQuery query;
    try {
      query = searchQuery(Api.validated(ctx));
    } catch (ProblemException e) {
      ctx.fail(e);
      return;
    }
    search
        .search(Callers.of(ctx), query)
        .onSuccess(page -> Responses.ok(ctx, page.toJson()))
        .onFailure(ctx::fail);
  }

  /**
   * The search's filters. The contract has checked each parameter's shape ({@code q}'s length and
   * characters, {@code amount} and {@code limit} ranges); what it cannot say is checked here.
   *
   * @throws ProblemException 400 {@code INVALID_TIME}, {@code INVALID_TIME_RANGE}, {@code
   *     INVALID_CURSOR} or {@code FILTER_REQUIRED}
   */
  private static OrderSearchQuery searchQuery(ValidatedRequest request) {
    Instant from = searchTime(request, "from");
    Instant to = searchTime(request, "to");
    String cursor = Query.string(request, "cursor");
    return new OrderSearchQuery(
        Query.string(request, "q"),
        Query.longValue(request, "amount"),
        from,
        to,
        Query.string(request, "originStoreId"),
        cursor == null ? null : OrderSearchQuery.Position.decode(cursor),
        (int) Query.longValue(request, "limit", OrderSearchQuery.DEFAULT_LIMIT));
  }

  private static Instant searchTime(ValidatedRequest request, String name) {
    String raw = Query.string(request, name);
    if (raw == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(raw).toInstant();
    } catch (DateTimeParseException e) {
      throw ProblemException.badRequest(
          "INVALID_TIME",
          "'"
              + name
              + "' must be an RFC 3339 date-time with an offset, such as"
              + " 2026-11-30T00:00:00+01:00 or 2026-11-29T23:00:00Z.");
    }
  }

  private void importOrders(RoutingContext ctx) {
    String csv = ctx.body().asString();
    imports
        .importCsv(Callers.of(ctx), csv == null ? "" : csv)
        .onSuccess(report -> Responses.ok(ctx, report))
        .onFailure(ctx::fail);
  }
}
