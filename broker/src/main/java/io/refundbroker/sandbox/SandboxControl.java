package io.refundbroker.sandbox;

import io.refundbroker.config.Secret;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The sandbox's control API ({@code /sandbox/v1}, JSON in and out). It is how a POS developer seeds
 * the sandbox when the broker runs with {@code serve --sandbox}; it never returns a secret.
 *
 * <pre>
 * POST   /sandbox/v1/stores              {msn, clientId, clientSecret, subscriptionKey}
 * GET    /sandbox/v1/stores              msn and clientId of each store
 * POST   /sandbox/v1/partners            {partnerId, clientId, clientSecret, subscriptionKey, msns:[…]}
 * GET    /sandbox/v1/partners            partnerId, clientId and msns of each partner
 * POST   /sandbox/v1/payments            {msn, reference, api?, captured:{value,currency}, createdAt?, capturedAt?}
 * GET    /sandbox/v1/payments/{msn}/{reference}
 * GET    /sandbox/v1/ledger              applied refunds
 * GET    /sandbox/v1/requests            recorded Vipps API requests (secret headers redacted)
 * POST   /sandbox/v1/faults              {kind, target?, reference?, times?, probability?, seed?, latencyMs?, status?}
 * GET    /sandbox/v1/faults    DELETE /sandbox/v1/faults
 * PUT    /sandbox/v1/settings            {tokenLifetimeSeconds?, refundCallsPerMinute?}
 * POST   /sandbox/v1/tokens/revoke       every issued token stops working
 * POST   /sandbox/v1/reset               forget everything
 * </pre>
 */
final class SandboxControl {
  static final String PREFIX = "/sandbox/";
  private static final String BASE = "/sandbox/v1";

  private final VippsSandbox sandbox;

  SandboxControl(VippsSandbox sandbox) {
    this.sandbox = sandbox;
  }

  void mount(Router router) {
    router.get(BASE).handler(ctx -> json(ctx, 200, overview()));
    router.post(BASE + "/stores").handler(ctx -> handle(ctx, 201, this::registerStore));
    router.get(BASE + "/stores").handler(ctx -> json(ctx, 200, stores()));
    router.post(BASE + "/partners").handler(ctx -> handle(ctx, 201, this::registerPartner));
    router.get(BASE + "/partners").handler(ctx -> json(ctx, 200, partners()));
    router.post(BASE + "/payments").handler(ctx -> handle(ctx, 201, this::seedPayment));
    router.get(BASE + "/payments/:msn/:reference").handler(this::payment);
    router.get(BASE + "/ledger").handler(ctx -> json(ctx, 200, ledger()));
    router.get(BASE + "/requests").handler(ctx -> json(ctx, 200, requests()));
    router.post(BASE + "/faults").handler(ctx -> handle(ctx, 201, this::injectFault));
    router.get(BASE + "/faults").handler(ctx -> json(ctx, 200, faults()));
    router
        .delete(BASE + "/faults")
        .handler(
            ctx -> {
              sandbox.clearFaults();
              ctx.response().setStatusCode(204).end();
            });
    router.put(BASE + "/settings").handler(ctx -> handle(ctx, 200, this::settings));
    router
        .post(BASE + "/tokens/revoke")
        .handler(
            ctx -> {
              sandbox.revokeTokens();
              ctx.response().setStatusCode(204).end();
            });
    router
        .post(BASE + "/reset")
        .handler(
            ctx -> {
              sandbox.reset();
              ctx.response().setStatusCode(204).end();
            });
    router.route(BASE + "/*").handler(ctx -> error(ctx, 404, "no such control endpoint"));
  }

  private static JsonObject overview() {
    return new JsonObject()
        .put("name", "refund-broker Vipps sandbox")
        .put(
            "vippsApi",
            new JsonArray()
                .add("POST /accesstoken/get")
                .add("POST /epayment/v1/payments/{reference}/refund")
                .add("GET /epayment/v1/payments/{reference}")
                .add("GET /epayment/v1/payments/{reference}/events")
                .add("POST /ecomm/v2/payments/{orderId}/refund")
                .add("GET /ecomm/v2/payments/{orderId}/details"))
        .put(
            "controlApi",
            new JsonArray()
                .add("POST /sandbox/v1/stores")
                .add("GET /sandbox/v1/stores")
                .add("POST /sandbox/v1/partners")
                .add("GET /sandbox/v1/partners")
                .add("POST /sandbox/v1/payments")
                .add("GET /sandbox/v1/payments/{msn}/{reference}")
                .add("GET /sandbox/v1/ledger")
                .add("GET /sandbox/v1/requests")
                .add("POST|GET|DELETE /sandbox/v1/faults")
                .add("PUT /sandbox/v1/settings")
                .add("POST /sandbox/v1/tokens/revoke")
                .add("POST /sandbox/v1/reset"));
  }

  /** Runs a body-taking operation; bad input becomes a 400 with the reason. */
  private static void handle(RoutingContext ctx, int status, Function<JsonObject, Object> op) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      error(ctx, 400, "the body must be a JSON object");
      return;
    }
    if (body == null) {
      error(ctx, 400, "the body must be a JSON object");
      return;
    }
    try {
      json(ctx, status, op.apply(body));
    } catch (IllegalArgumentException
        | NullPointerException
        | ClassCastException
        | DateTimeParseException e) {
      error(ctx, 400, e.getMessage() == null ? "invalid or missing field" : e.getMessage());
    }
  }

  private Object registerPartner(JsonObject body) {
    Object msns = body.getValue("msns");
    if (!(msns instanceof JsonArray list)) {
      throw new IllegalArgumentException("msns is required (an array of MSNs)");
    }
    Set<String> linked = new TreeSet<>();
    for (Object msn : list) {
      if (!(msn instanceof String text)) {
        throw new IllegalArgumentException("msns must be strings");
      }
      linked.add(text);
    }
    SandboxPartner partner =
        new SandboxPartner(
            required(body, "partnerId"),
            required(body, "clientId"),
            Secret.of(required(body, "clientSecret")),
            Secret.of(required(body, "subscriptionKey")),
            linked);
    sandbox.registerPartner(partner);
    return describe(partner);
  }

  private JsonArray partners() {
    JsonArray out = new JsonArray();
    sandbox.partners().forEach(p -> out.add(describe(p)));
    return out;
  }

  private static JsonObject describe(SandboxPartner partner) {
    return new JsonObject()
        .put("partnerId", partner.partnerId())
        .put("clientId", partner.clientId())
        .put("msns", new JsonArray(List.copyOf(new TreeSet<>(partner.msns()))));
  }

  private Object registerStore(JsonObject body) {
    SandboxStore store =
        new SandboxStore(
            required(body, "msn"),
            required(body, "clientId"),
            Secret.of(required(body, "clientSecret")),
            Secret.of(required(body, "subscriptionKey")));
    sandbox.registerStore(store);
    return new JsonObject().put("msn", store.msn()).put("clientId", store.clientId());
  }

  private JsonArray stores() {
    JsonArray out = new JsonArray();
    sandbox
        .stores()
        .forEach(s -> out.add(new JsonObject().put("msn", s.msn()).put("clientId", s.clientId())));
    return out;
  }

  private Object seedPayment(JsonObject body) {
    JsonObject captured = body.getJsonObject("captured");
    if (captured == null) {
      throw new IllegalArgumentException("captured {value, currency} is required");
    }
    Instant capturedAt =
        body.getString("capturedAt") == null
            ? sandbox.clock().instant()
            : Instant.parse(body.getString("capturedAt"));
    Instant createdAt =
        body.getString("createdAt") == null
            ? capturedAt
            : Instant.parse(body.getString("createdAt"));
    SandboxPayment payment =
        new SandboxPayment(
            required(body, "msn"),
            required(body, "reference"),
            api(body.getString("api", "epayment")),
            new Money(captured.getLong("value"), captured.getString("currency", "NOK")),
            createdAt,
            capturedAt);
    return view(sandbox.seedPayment(payment));
  }

  private void payment(RoutingContext ctx) {
    sandbox
        .payment(ctx.pathParam("msn"), ctx.pathParam("reference"))
        .ifPresentOrElse(
            view -> json(ctx, 200, view(view)), () -> error(ctx, 404, "no such payment"));
  }

  private static JsonObject view(PaymentView view) {
    return new JsonObject()
        .put("msn", view.msn())
        .put("reference", view.reference())
        .put("api", view.api().wireName())
        .put("captured", view.captured().toJson())
        .put("refunded", view.refunded().toJson())
        .put("createdAt", view.createdAt().toString())
        .put("capturedAt", view.capturedAt().toString());
  }

  private JsonArray ledger() {
    JsonArray out = new JsonArray();
    for (LedgerEntry entry : sandbox.ledger()) {
      out.add(
          new JsonObject()
              .put("msn", entry.msn())
              .put("reference", entry.reference())
              .put("api", entry.api().wireName())
              .put("amount", entry.amount().toJson())
              .put("idempotencyKey", entry.idempotencyKey())
              .put("clientId", entry.clientId())
              .put("tokenMsn", entry.tokenMsn())
              .put("partnerId", entry.partnerId())
              .put("appliedAt", entry.appliedAt().toString()));
    }
    return out;
  }

  private JsonArray requests() {
    JsonArray out = new JsonArray();
    for (RecordedRequest request : sandbox.requests()) {
      JsonObject headers = new JsonObject();
      request
          .headers()
          .forEach(
              h ->
                  headers.put(
                      h.getKey(),
                      VippsHeaders.isSecret(h.getKey()) ? VippsHeaders.REDACTED : h.getValue()));
      out.add(
          new JsonObject()
              .put("method", request.method())
              .put("path", request.path())
              .put("query", request.query())
              .put("headers", headers)
              .put("body", request.bodyText())
              .put("receivedAt", request.receivedAt().toString()));
    }
    return out;
  }

  private Object injectFault(JsonObject body) {
    Fault.Kind kind = Fault.Kind.fromWireName(required(body, "kind"));
    Fault fault =
        switch (kind) {
          case LATENCY -> Fault.latency(Duration.ofMillis(body.getLong("latencyMs", 0L)));
          case STATUS -> Fault.status(body.getInteger("status", 503));
          case RESET -> Fault.reset();
          case APPLY_THEN_DROP -> Fault.applyThenDrop();
          case MALFORMED -> Fault.malformed();
        };
    fault = fault.on(Fault.Target.fromWireName(body.getString("target", "any")));
    if (body.getString("reference") != null) {
      fault = fault.forReference(body.getString("reference"));
    }
    int times = body.getInteger("times", 1);
    fault = times == Fault.ALWAYS ? fault.always() : fault.times(times);
    if (body.getValue("probability") != null) {
      fault = fault.withProbability(body.getDouble("probability"), body.getLong("seed", 0L));
    }
    sandbox.inject(fault);
    return describe(fault);
  }

  private JsonArray faults() {
    JsonArray out = new JsonArray();
    sandbox.faults().forEach(f -> out.add(describe(f)));
    return out;
  }

  private static JsonObject describe(Fault fault) {
    return new JsonObject()
        .put("kind", fault.kind().wireName())
        .put("target", fault.target().wireName())
        .put("reference", fault.reference())
        .put("times", fault.times())
        .put("probability", fault.probability())
        .put("seed", fault.seed())
        .put("latencyMs", fault.latency().toMillis())
        .put("status", fault.status());
  }

  private Object settings(JsonObject body) {
    if (body.getValue("tokenLifetimeSeconds") != null) {
      sandbox.tokenLifetime(Duration.ofSeconds(body.getLong("tokenLifetimeSeconds")));
    }
    if (body.getValue("refundCallsPerMinute") != null) {
      sandbox.refundCallsPerMinute(body.getInteger("refundCallsPerMinute"));
    }
    return new JsonObject()
        .put("tokenLifetimeSeconds", sandbox.tokenLifetime().getSeconds())
        .put("refundCallsPerMinute", sandbox.refundCallsPerMinute());
  }

  private static VippsApi api(String name) {
    try {
      return VippsApi.fromWireName(name);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("api must be epayment or ecom");
    }
  }

  private static String required(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (!(value instanceof String text) || text.isBlank()) {
      throw new IllegalArgumentException(field + " is required (a string)");
    }
    return text;
  }

  private static void json(RoutingContext ctx, int status, Object body) {
    ctx.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(body instanceof JsonArray array ? array.toBuffer() : ((JsonObject) body).toBuffer());
  }

  private static void error(RoutingContext ctx, int status, String message) {
    json(ctx, status, new JsonObject().put("error", message));
  }
}
