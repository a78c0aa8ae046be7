package io.refundbroker.http;

import io.refundbroker.auth.Principal;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One structured log line per request, written when the response ends: method, path (never the
 * query, which may carry order ids an auditor did not ask to log), status, duration, request id and
 * the authenticated client id. Headers and bodies are never logged.
 */
public final class AccessLog implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger("io.refundbroker.access");

  @Override
  public void handle(RoutingContext ctx) {
    long started = System.nanoTime();
    ctx.addEndHandler(
        done -> {
          int status = ctx.response().getStatusCode();
          Principal principal = Principal.of(ctx);
          var event = status >= 500 ? LOG.atWarn() : LOG.atInfo();
          event
              .setMessage("http")
              .addKeyValue("requestId", RequestIds.of(ctx))
              .addKeyValue("method", ctx.request().method().name())
              .addKeyValue("path", ctx.request().path())
              .addKeyValue("status", status)
              .addKeyValue("ms", (System.nanoTime() - started) / 1_000_000.0)
              .addKeyValue("client", principal == null ? "-" : principal.clientId())
              .log();
        });
    ctx.next();
  }
}
