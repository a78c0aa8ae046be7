package io.refundbroker.auth;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.refundbroker.caller.Principal;
import io.refundbroker.error.ProblemException;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts and logs every refused authentication (401) and authorization (403): the metric {@code
 * authorization_refusals_total{status, code}} and one INFO line per refusal naming the status, the
 * problem code, the method and the route's template (never the request's own path or query), and
 * the client, role and store when the client is known. Nothing of the credential — no token, no
 * part of the {@code Authorization} header, no certificate — is logged or tagged.
 *
 * <p>Thread-safe: Micrometer counters are; the instance holds no other state.
 */
final class AuthorizationRefusals {
  private static final Logger LOG = LoggerFactory.getLogger(AuthorizationRefusals.class);
  private static final String METRIC = "authorization.refusals";

  private final MeterRegistry registry;

  AuthorizationRefusals(MeterRegistry registry) {
    this.registry = registry;
  }

  /** A refusal before the client is known (401), or of a known client (403, {@code who}). */
  void record(RoutingContext ctx, Throwable failure, Principal who) {
    if (!(failure instanceof ProblemException problem)
        || (problem.status() != 401 && problem.status() != 403)) {
      return;
    }
    String status = String.valueOf(problem.status());
    if (registry != null) {
      Counter.builder(METRIC)
          .description("Requests refused for want of a valid credential (401) or role (403)")
          .tag("status", status)
          .tag("code", problem.code())
          .register(registry)
          .increment();
    }
    Route route = ctx.currentRoute();
    var line =
        LOG.atInfo()
            .setMessage("authorization refused")
            .addKeyValue("status", status)
            .addKeyValue("code", problem.code())
            .addKeyValue("method", ctx.request().method().name())
            .addKeyValue("route", route == null ? "?" : route.getPath());
    if (who != null) {
      line =
          line.addKeyValue("clientId", who.clientId())
              .addKeyValue("role", who.role().name())
              .addKeyValue("storeId", who.storeId());
    }
    line.log();
  }
}
