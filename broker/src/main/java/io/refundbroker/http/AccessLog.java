package io.refundbroker.http;

import io.refundbroker.caller.Principal;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One structured log line per request, written when the response ends: method, path (never the
 * query, which may carry order ids an auditor did not ask to log), status, duration, request id and
 * the authenticated client id. Headers and bodies are never logged. A request whose client hung up
 * before the answer was sent is logged with status {@value #CLIENT_CLOSED} (no answer), never with
 * the status the response object happened to hold. The path is logged as received, cut to {@value
 * #MAX_PATH} characters; the log encoder escapes control characters in it.
 */
public final class AccessLog implements Handler<RoutingContext> {
  static final String LOGGER = "io.refundbroker.access";

  /** Logged instead of a status when the connection closed before the answer (as nginx does). */
  static final int CLIENT_CLOSED = 499;

  static final int MAX_PATH = 512;
  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

  @Override
  public void handle(RoutingContext ctx) {
    long started = System.nanoTime();
    ctx.addEndHandler(
        done -> {
          int status = done.succeeded() ? ctx.response().getStatusCode() : CLIENT_CLOSED;
          Principal principal = Callers.principal(ctx);
          var event = status >= 500 ? LOG.atWarn() : LOG.atInfo();
          event
              .setMessage("http")
              .addKeyValue("requestId", RequestIds.of(ctx))
              .addKeyValue("method", ctx.request().method().name())
              .addKeyValue("path", loggedPath(ctx.request().path()))
              .addKeyValue("status", status)
              .addKeyValue("ms", (System.nanoTime() - started) / 1_000_000.0)
              .addKeyValue("client", principal == null ? "-" : principal.clientId())
              .log();
        });
    ctx.next();
  }

  static String loggedPath(String path) {
    if (path == null) {
      return "-";
    }
    return path.length() <= MAX_PATH ? path : path.substring(0, MAX_PATH) + "…";
  }
}
