package io.refundbroker.sandbox;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * A fault the sandbox injects into matching Vipps API requests, for deterministic tests of what the
 * broker does when Vipps misbehaves. Build one with a factory and narrow it with the withers:
 *
 * <pre>{@code
 * sandbox.inject(Fault.applyThenDrop().on(Fault.Target.REFUND).times(1));
 * sandbox.inject(Fault.status(503).on(Fault.Target.REFUND).forReference("123456-order-1").always());
 * sandbox.inject(Fault.reset().on(Fault.Target.ANY).withProbability(0.3, 42L));
 * }</pre>
 *
 * <p>Faults are checked in the order injected; the first one that matches a request and fires is
 * used (and a {@code times} count is used up by it).
 *
 * @param kind what happens
 * @param target which requests it applies to
 * @param reference only requests for this reference / orderId (null = any)
 * @param times how many matching requests it fires for ({@link #ALWAYS} = no limit)
 * @param probability chance that it fires for a matching request (1 = always)
 * @param seed seed of the random source deciding {@code probability} (deterministic tests)
 * @param latency added delay for {@link Kind#LATENCY}
 * @param status HTTP status for {@link Kind#STATUS}
 */
public record Fault(
    Kind kind,
    Target target,
    String reference,
    int times,
    double probability,
    long seed,
    Duration latency,
    int status) {

  /** {@code times} value meaning "every matching request". */
  public static final int ALWAYS = -1;

  /** What the fault does. */
  public enum Kind {
    /** Waits {@code latency}, then handles the request normally (it may still be applied). */
    LATENCY,
    /** Answers {@code status} (5xx or 429) without handling the request. */
    STATUS,
    /** Closes the connection without answering and without handling the request. */
    RESET,
    /** Handles the request (a refund is applied), then closes the connection without answering. */
    APPLY_THEN_DROP,
    /**
     * Handles the request (a refund is applied), then answers its status with the body cut in half
     * (not valid JSON), as a proxy or a broken deployment might.
     */
    MALFORMED;

    /**
     * The control API's name: {@code latency}, {@code status}, {@code reset}, {@code
     * apply-then-drop}, {@code malformed}.
     */
    public String wireName() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Kind fromWireName(String name) {
      try {
        return valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "kind must be one of latency, status, reset, apply-then-drop, malformed");
      }
    }
  }

  /** Which requests a fault applies to. */
  public enum Target {
    /** {@code POST /accesstoken/get}. */
    TOKEN,
    /** ePayment and eCom refund calls. */
    REFUND,
    /** Get payment, event log and eCom details. */
    READ,
    /** Every Vipps API request. */
    ANY;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Target fromWireName(String name) {
      try {
        return valueOf(name.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("target must be one of token, refund, read, any");
      }
    }
  }

  public Fault {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(target, "target");
    latency = latency == null ? Duration.ZERO : latency;
    if (times == 0 || times < ALWAYS) {
      throw new IllegalArgumentException("times must be positive or ALWAYS");
    }
    if (!(probability > 0 && probability <= 1)) {
      throw new IllegalArgumentException("probability must be in (0, 1]");
    }
    if (kind == Kind.STATUS && (status < 400 || status > 599)) {
      throw new IllegalArgumentException("status must be a 4xx or 5xx code");
    }
    if (kind == Kind.LATENCY && (latency.isNegative() || latency.isZero())) {
      throw new IllegalArgumentException("latency must be positive");
    }
  }

  private static Fault of(Kind kind, Duration latency, int status) {
    return new Fault(kind, Target.ANY, null, 1, 1.0, 0L, latency, status);
  }

  /** Delays matching requests by {@code latency}. */
  public static Fault latency(Duration latency) {
    return of(Kind.LATENCY, latency, 0);
  }

  /** Answers matching requests with {@code status} (e.g. 500, 503, 429) without handling them. */
  public static Fault status(int status) {
    return of(Kind.STATUS, Duration.ZERO, status);
  }

  /** Closes the connection of matching requests without an answer. */
  public static Fault reset() {
    return of(Kind.RESET, Duration.ZERO, 0);
  }

  /** Handles matching requests (applies refunds), then drops the connection without an answer. */
  public static Fault applyThenDrop() {
    return of(Kind.APPLY_THEN_DROP, Duration.ZERO, 0);
  }

  /** Handles matching requests (applies refunds), then answers with half of the body. */
  public static Fault malformed() {
    return of(Kind.MALFORMED, Duration.ZERO, 0);
  }

  public Fault on(Target newTarget) {
    return new Fault(kind, newTarget, reference, times, probability, seed, latency, status);
  }

  public Fault forReference(String newReference) {
    return new Fault(kind, target, newReference, times, probability, seed, latency, status);
  }

  /** Fires for the next {@code n} matching requests. */
  public Fault times(int n) {
    return new Fault(kind, target, reference, n, probability, seed, latency, status);
  }

  /** Fires for every matching request until cleared. */
  public Fault always() {
    return times(ALWAYS);
  }

  /** Fires with probability {@code p}, decided by a {@code Random(seed)} of its own. */
  public Fault withProbability(double p, long randomSeed) {
    return new Fault(kind, target, reference, times, p, randomSeed, latency, status);
  }
}
