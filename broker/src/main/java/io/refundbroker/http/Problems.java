package io.refundbroker.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;

/** Writes RFC 9457 problem bodies ({@code application/problem+json}). */
public final class Problems {
  public static final String CONTENT_TYPE = "application/problem+json";
  private static final String TYPE_BASE = "https://refund-broker.dev/problems/";

  private Problems() {}

  /** Ends the response with {@code problem}, unless it has already been written. */
  public static void write(RoutingContext ctx, ProblemException problem) {
    if (ctx.response().ended() || ctx.response().headWritten()) {
      return;
    }
    JsonObject body =
        new JsonObject()
            .put("type", TYPE_BASE + problem.code().toLowerCase(Locale.ROOT).replace('_', '-'))
            .put("title", problem.title())
            .put("status", problem.status())
            .put("detail", problem.detail())
            .put("code", problem.code())
            .put("requestId", RequestIds.of(ctx));
    problem.extensions().forEach(e -> body.put(e.getKey(), e.getValue()));
    var response = ctx.response().setStatusCode(problem.status());
    response.headers().remove("Content-Length");
    response.putHeader("Content-Type", CONTENT_TYPE);
    if (problem.status() == 401) {
      response.putHeader("WWW-Authenticate", "Bearer realm=\"refund-broker\"");
    }
    if (problem.status() == 503) {
      response.putHeader("Retry-After", "5");
    }
    response.end(body.toBuffer());
  }
}
