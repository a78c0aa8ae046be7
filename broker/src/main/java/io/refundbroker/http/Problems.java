package io.refundbroker.http;

import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;

/** Writes RFC 9457 problem bodies ({@code application/problem+json}). */
public final class Problems {
  public static final String CONTENT_TYPE = "application/problem+json";
  private static final String TYPE_BASE = "https://refund-broker.dev/problems/";

  /** Problem member holding the seconds a caller should wait; also sent as {@code Retry-After}. */
  public static final String RETRY_AFTER_SECONDS = "retryAfterSeconds";

  private Problems() {}

  /**
   * Ends the response with {@code problem}, unless it has already been written. When the answer
   * comes before the request body was read (a refusal from the head alone), the response says
   * {@code Connection: close} and the connection is let go after it (see {@link Bodies}).
   */
  public static void write(RoutingContext ctx, ProblemException problem) {
    HttpServerResponse response = ctx.response();
    if (response.ended() || response.headWritten() || response.closed()) {
      return;
    }
    boolean unread = Bodies.unread(ctx.request());
    if (unread && ctx.request().version() != HttpVersion.HTTP_2) {
      response.putHeader("Connection", "close");
    }
    Future<Void> written = write(response, RequestIds.of(ctx), problem);
    if (unread) {
      written.onComplete(done -> Bodies.discardThenClose(ctx.vertx(), ctx.request()));
    }
  }

  /** Ends {@code response} with {@code problem} (for answers outside the router). */
  static Future<Void> write(
      HttpServerResponse response, String requestId, ProblemException problem) {
    JsonObject body =
        new JsonObject()
            .put("type", TYPE_BASE + problem.code().toLowerCase(Locale.ROOT).replace('_', '-'))
            .put("title", problem.title())
            .put("status", problem.status())
            .put("detail", problem.detail())
            .put("code", problem.code())
            .put("requestId", requestId);
    JsonObject extensions = problem.extensions();
    extensions.forEach(e -> body.put(e.getKey(), e.getValue()));
    response.setStatusCode(problem.status());
    response.headers().remove("Content-Length");
    response.putHeader("Content-Type", CONTENT_TYPE);
    if (problem.status() == 401) {
      response.putHeader("WWW-Authenticate", "Bearer realm=\"refund-broker\"");
    }
    if (extensions.getValue(RETRY_AFTER_SECONDS) instanceof Number seconds) {
      response.putHeader("Retry-After", String.valueOf(Math.max(1, seconds.longValue())));
    } else if (problem.status() == 503) {
      response.putHeader("Retry-After", "5");
    }
    return response.end(body.toBuffer());
  }
}
