package io.refundbroker.testing;

import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * What a test does when the official specs ({@code $CONTRACTS_DIR}, by default {@code
 * ../shared/specs} as the pom passes it in {@code CONTRACTS_DIR_DEFAULT}) are missing: on a
 * developer's machine the contract checks are skipped with a warning, but when {@code CI=true} the
 * run fails, so CI can never pass without checking the contracts.
 */
public final class Specs {
  private Specs() {}

  /** Whether this is CI's run ({@code CI=true}). */
  static boolean onCi(Map<String, String> environment) {
    return "true".equalsIgnoreCase(environment.getOrDefault("CI", "").trim());
  }

  /**
   * Called where specs were looked for and not found: fails under {@code CI=true}, else returns
   * (the caller skips its checks and says so).
   *
   * @throws AssertionError under CI, naming what is missing
   */
  public static void missing(String message) {
    missing(System.getenv(), message);
  }

  static void missing(Map<String, String> environment, String message) {
    if (onCi(environment)) {
      throw new AssertionError(
          "CI=true and the contract specs are missing, so the contract checks cannot run: "
              + message);
    }
  }

  /** A JUnit assumption on the specs being present that fails instead of skipping on CI. */
  public static void assumePresent(boolean present, String message) {
    if (!present) {
      missing(message);
    }
    Assumptions.assumeTrue(present, message);
  }
}
