package io.refundbroker.sabotage;

import java.util.Arrays;

/**
 * Test-only switches that break the broker on purpose, so that the test suite can show it notices
 * (RELIABILITY.md, "Tests of the tests"; {@code SabotageIT} runs the checks with each switch on and
 * prints which check caught it). A switch is on only while the JVM system property {@value
 * #PROPERTY} lists its name (comma-separated); nothing in the broker, its configuration or its
 * environment sets that property, so in production every switch is off and each hook below is one
 * never-taken branch.
 *
 * <p>The {@code CRASH_*} values are not switches that break the broker but <b>crash points</b>
 * ({@link #isCrashPoint()}): at one exact point of the refund write path ({@code RefundService})
 * {@link #crashHere()} ends the JVM with {@link Runtime#halt} (exit code {@value #CRASH_EXIT_CODE},
 * no shutdown hooks, as SIGKILL would), so {@code CrashPointsIT} can show that a broker killed at
 * each point between "refund committed" and "answer sent" and then restarted applies every refund
 * exactly once. {@code SabotageIT} does not turn them on (a crash is not a defect a check should
 * catch).
 */
public enum Sabotage {
  /** Reads the order without {@code FOR UPDATE}: concurrent refunds of one order race. */
  DROP_ORDER_LOCK,
  /** A retried Vipps refund carries a fresh idempotency key instead of the original one. */
  FRESH_VIPPS_KEY_ON_RETRY,
  /** Audit verification accepts every checkpoint signature. */
  SKIP_CHECKPOINT_SIGNATURE_CHECK,
  /**
   * A store's order look-up searches every chain, not only its own, and takes the store of an order
   * found in another chain as its origin: another chain's order is answered (and refunded) as if it
   * were the caller's chain's.
   */
  SKIP_CHAIN_CHECK_FOR_STORES,
  /** Credential rotation logs the new client secret. */
  ECHO_SECRET_IN_LOG,
  /**
   * Crash point: the PENDING refund is committed (written ahead), its Vipps refund request not yet
   * sent.
   */
  CRASH_BEFORE_VIPPS_CALL,
  /**
   * Crash point: the Vipps call has ended (2xx, or no answer: e.g. the connection dropped), its
   * outcome not yet recorded.
   */
  CRASH_BEFORE_OUTCOME,
  /** Crash point: the outcome is committed, the HTTP answer to the store not yet sent. */
  CRASH_BEFORE_ANSWER;

  /** The exit code of a JVM ended at a crash point (as a shell reports a SIGKILLed process). */
  public static final int CRASH_EXIT_CODE = 137;

  /** The system property naming the switches that are on (tests only). */
  public static final String PROPERTY = "refundbroker.sabotage";

  /** Whether this switch is on (the system property lists it). */
  public boolean on() {
    String value = System.getProperty(PROPERTY);
    return value != null && Arrays.asList(value.split(",")).contains(name());
  }

  /** Whether this is a crash point ({@link #crashHere}) rather than a switch that breaks a rule. */
  public boolean isCrashPoint() {
    return name().startsWith("CRASH_");
  }

  /**
   * For a crash point that is on: says so on stderr and ends the JVM at once ({@link Runtime#halt}:
   * no shutdown hook, no flush of anything else, as SIGKILL). Otherwise nothing.
   */
  public void crashHere() {
    if (isCrashPoint() && on()) {
      System.err.println("crash point " + name() + ": halting");
      System.err.flush();
      Runtime.getRuntime().halt(CRASH_EXIT_CODE);
    }
  }
}
