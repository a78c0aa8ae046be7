package io.refundbroker.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;

/** Health, metrics and the contract itself: public endpoints for operators and tools. */
public final class OperationsRoutes {
  private final Readiness readiness;
  private final PrometheusMeterRegistry registry;
  private final Buffer contract;

  public OperationsRoutes(Readiness readiness, PrometheusMeterRegistry registry, Buffer contract) {
    this.readiness = readiness;
    this.registry = registry;
    this.contract = contract;
  }

  public void mount(Api api) {
    api.operation("healthLive", this::live)
        .operation("healthReady", this::ready)
        .operation("metrics", PrometheusScrapingHandler.create(registry))
        .operation("openapi", this::openapi);
  }

  private void live(RoutingContext ctx) {
    Responses.ok(ctx, new JsonObject().put("status", "UP"));
  }

  private void ready(RoutingContext ctx) {
    readiness
        .check()
        .onSuccess(
            result ->
                Responses.json(ctx, "UP".equals(result.getString("status")) ? 200 : 503, result))
        .onFailure(ctx::fail);
  }

  private void openapi(RoutingContext ctx) {
    ctx.response().putHeader("Content-Type", "application/yaml").end(contract);
  }
}
