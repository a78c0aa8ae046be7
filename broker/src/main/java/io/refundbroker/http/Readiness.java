package io.refundbroker.http;

import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import java.util.function.Supplier;

/**
 * Named readiness checks (database, credential backend, …). Each check is a future that succeeds
 * when its dependency is usable; the failure message becomes the public {@code reason}, so it must
 * not carry secrets or internal detail.
 *
 * <p>Thread-safety: checks are registered while the broker starts, before any probe; Vert.x's
 * {@link HealthChecks} keeps them and runs each probe on the caller's context.
 */
public final class Readiness {
  private static final long TIMEOUT_MS = 3_000;
  private final HealthChecks checks;

  public Readiness(Vertx vertx) {
    this.checks = HealthChecks.create(vertx);
  }

  /** Registers a check; {@code check} is called on every readiness probe. */
  public Readiness register(String name, Supplier<Future<Void>> check) {
    return registerDescribed(name, () -> check.get().map((String) null));
  }

  /**
   * Registers a check whose success says what the dependency's state is (shown as {@code detail},
   * so it must not carry secrets either); {@code check} is called on every readiness probe.
   */
  public Readiness registerDescribed(String name, Supplier<Future<String>> check) {
    checks.register(
        name,
        TIMEOUT_MS,
        promise ->
            check
                .get()
                .onComplete(
                    result ->
                        promise.complete(
                            result.succeeded()
                                ? (result.result() == null
                                    ? Status.OK()
                                    : Status.OK(new JsonObject().put("detail", result.result())))
                                : Status.KO(
                                    new JsonObject().put("reason", reason(result.cause()))))));
    return this;
  }

  /** {@code {"status": "UP"|"DOWN", "checks": [{"id", "status", "reason"?}]}}. */
  public Future<JsonObject> check() {
    return checks.checkStatus().map(Readiness::toJson);
  }

  private static JsonObject toJson(CheckResult result) {
    JsonArray items = new JsonArray();
    if (result.getChecks() != null) {
      for (CheckResult check : result.getChecks()) {
        JsonObject item =
            new JsonObject().put("id", check.getId()).put("status", check.getUp() ? "UP" : "DOWN");
        JsonObject data = check.getData();
        if (data != null && data.containsKey("detail")) {
          item.put("detail", data.getString("detail"));
        }
        if (data != null && data.containsKey("reason")) {
          item.put("reason", data.getString("reason"));
        } else if (!check.getUp()) {
          item.put("reason", "timed out or failed");
        }
        items.add(item);
      }
    }
    return new JsonObject().put("status", result.getUp() ? "UP" : "DOWN").put("checks", items);
  }

  private static String reason(Throwable cause) {
    if (cause instanceof ProblemException p) {
      return p.detail();
    }
    return "unavailable";
  }
}
