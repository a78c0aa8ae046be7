package io.refundbroker.refund;

import io.refundbroker.error.ProblemException;
import io.refundbroker.http.Api;
import io.refundbroker.http.Callers;
import io.refundbroker.http.Responses;
import io.refundbroker.money.Money;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.validation.ValidatedRequest;
import java.util.UUID;

/** Store endpoints for refunds. */
public final class RefundRoutes {
  private final RefundService refunds;

  public RefundRoutes(RefundService refunds) {
    this.refunds = refunds;
  }

  public void mount(Api api) {
    api.operation("requestRefund", this::requestRefund)
        .operation("getRefund", this::getRefund)
        .operation("listRefunds", this::listRefunds);
  }

  private void requestRefund(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    String key = request.getHeaders().get("Idempotency-Key").getString();
    JsonObject body = request.getBody().getJsonObject();
    RefundService.RefundRequest refund =
        new RefundService.RefundRequest(
            body.getString("orderId"),
            Money.fromJson(body.getJsonObject("amount")),
            body.getString("reason"),
            body.getString("originStoreId"));
    refunds
        .request(Callers.of(ctx), key, refund)
        .onSuccess(reply -> answer(ctx, reply))
        .onFailure(ctx::fail);
  }

  private static void answer(RoutingContext ctx, RefundService.Reply reply) {
    Refund refund = reply.refund();
    if (reply.replayed()) {
      ctx.response().putHeader("Idempotent-Replayed", "true");
    }
    if (refund.status() == RefundStatus.FAILED) {
      ctx.fail(RefundTransitions.problem(refund));
      return;
    }
    ctx.response().putHeader("Location", "/v1/refunds/" + refund.refundId());
    Responses.json(ctx, RefundTransitions.status(refund), refund.toJson());
  }

  private void getRefund(RoutingContext ctx) {
    UUID refundId;
    try {
      refundId =
          UUID.fromString(Api.validated(ctx).getPathParameters().get("refundId").getString());
    } catch (IllegalArgumentException e) {
      ctx.fail(ProblemException.badRequest("VALIDATION_FAILED", "refundId must be a UUID."));
      return;
    }
    refunds
        .get(Callers.of(ctx), refundId)
        .onSuccess(refund -> Responses.ok(ctx, refund.toJson()))
        .onFailure(ctx::fail);
  }

  private void listRefunds(RoutingContext ctx) {
    String orderId = Api.validated(ctx).getQuery().get("orderId").getString();
    refunds
        .list(Callers.of(ctx), orderId)
        .onSuccess(
            list -> {
              JsonArray items = new JsonArray();
              list.forEach(refund -> items.add(refund.toJson()));
              Responses.ok(ctx, new JsonObject().put("refunds", items));
            })
        .onFailure(ctx::fail);
  }
}
