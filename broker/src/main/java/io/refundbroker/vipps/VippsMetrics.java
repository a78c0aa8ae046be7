package io.refundbroker.vipps;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.vipps.RefundOutcome.Kind;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The Vipps client's meters. Labels are bounded enums only (operation, API flavour, status class,
 * outcome): never an MSN, a reference, an idempotency key or anything secret.
 *
 * <p>Thread-safety: it keeps no state of its own; Micrometer's registry is thread-safe.
 */
final class VippsMetrics {
  private final MeterRegistry registry;

  VippsMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Registers the gauge of cached access tokens, read from {@code cachedTokens}. */
  void cachedTokens(Supplier<Number> cachedTokens) {
    Gauge.builder("vipps.tokens.cached", cachedTokens)
        .description("Sales units with a cached Vipps access token (or a fetch in flight)")
        .register(registry);
  }

  /** One HTTP exchange with Vipps (each attempt counts). */
  void exchange(String operation, VippsApi api, String result, Duration took) {
    Timer.builder("vipps.requests")
        .description("HTTP exchanges with Vipps, by operation and result (status class or error)")
        .tag("operation", operation)
        .tag("api", apiTag(api))
        .tag("result", result)
        .register(registry)
        .record(took);
  }

  /** A retry of an operation (same idempotency key and body). */
  void retry(String operation, VippsApi api) {
    Counter.builder("vipps.retries")
        .description("Retries of Vipps calls after a transient failure")
        .tag("operation", operation)
        .tag("api", apiTag(api))
        .register(registry)
        .increment();
  }

  /** The final, classified outcome of a refund call. */
  void refundOutcome(VippsApi api, RefundOutcome outcome) {
    Counter.builder("vipps.refund.outcomes")
        .description("Refund calls to Vipps by final outcome")
        .tag("api", apiTag(api))
        .tag("kind", outcome.kind().name().toLowerCase(Locale.ROOT))
        .tag(
            "reason",
            outcome.kind() == Kind.REJECTED
                ? outcome.reason().name().toLowerCase(Locale.ROOT)
                : "none")
        .register(registry)
        .increment();
  }

  /** An access-token fetch: {@code ok}, {@code rejected} or {@code unavailable}. */
  void tokenFetch(String result) {
    Counter.builder("vipps.token.fetches")
        .description("Access-token fetches from Vipps by result")
        .tag("result", result)
        .register(registry)
        .increment();
  }

  /**
   * A cached token dropped: {@code unauthorized} (Vipps refused it), {@code rotation}, or {@code
   * resync} (every token, after missed change notifications).
   */
  void tokenDropped(String cause) {
    Counter.builder("vipps.token.invalidations")
        .description("Cached access tokens dropped before their time")
        .tag("cause", cause)
        .register(registry)
        .increment();
  }

  private static String apiTag(VippsApi api) {
    return api == null ? "none" : api.wireName();
  }
}
