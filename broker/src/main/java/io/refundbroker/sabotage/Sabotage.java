package io.refundbroker.sabotage;

import java.util.Arrays;

/**
 * Test-only switches that break the broker on purpose, so that the test suite can show it notices
 * (RELIABILITY.md, "Tests of the tests"; {@code SabotageIT} runs the checks with each switch on and
 * prints which check caught it). A switch is on only while the JVM system property {@value
 * #PROPERTY} lists its name (comma-separated); nothing in the broker, its configuration or its
 * environment sets that property, so in production every switch is off and each hook below is one
 * never-taken branch.
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
  ECHO_SECRET_IN_LOG;

  /** The system property naming the switches that are on (tests only). */
  public static final String PROPERTY = "refundbroker.sabotage";

  /** Whether this switch is on (the system property lists it). */
  public boolean on() {
    String value = System.getProperty(PROPERTY);
    return value != null && Arrays.asList(value.split(",")).contains(name());
  }
}
