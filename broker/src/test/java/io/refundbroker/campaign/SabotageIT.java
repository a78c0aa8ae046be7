package io.refundbroker.campaign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import io.refundbroker.sabotage.Sabotage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Tests of the tests: with each {@link Sabotage} switch on, the checks meant to guard what it
 * breaks are run (in this JVM, through the JUnit Platform launcher) and must fail. Prints, per
 * switch, which checks caught it. A suite that stays green on a broken broker proves nothing.
 */
class SabotageIT {
  /** The checks run for each switch: {@code Class} or {@code Class#method}. */
  private static final Map<Sabotage, List<String>> CHECKS = new LinkedHashMap<>();

  static {
    CHECKS.put(Sabotage.DROP_ORDER_LOCK, List.of("io.refundbroker.refund.RefundConcurrencyIT"));
    CHECKS.put(
        Sabotage.FRESH_VIPPS_KEY_ON_RETRY,
        List.of(
            "io.refundbroker.vipps.VippsFaultsIT#aServerErrorThenSuccessIsAppliedOnceWithTheSameKey"));
    CHECKS.put(
        Sabotage.SKIP_CHECKPOINT_SIGNATURE_CHECK,
        List.of(
            "io.refundbroker.audit.CheckpointKeyVersionsTest#aRelabelledOrForgedCheckpointIsTampering"));
    CHECKS.put(
        Sabotage.SKIP_CHAIN_CHECK_FOR_STORES,
        List.of("io.refundbroker.refund.CrossStoreRefundIT#refusalsWriteNothingAndCallNobody"));
    CHECKS.put(
        Sabotage.ECHO_SECRET_IN_LOG,
        List.of("io.refundbroker.credential.CredentialSecretCanaryIT"));
  }

  /**
   * Every switch that breaks a rule has checks here; the crash points ({@link
   * Sabotage#isCrashPoint}) are not turned on (they end the JVM: {@code CrashPointsIT} uses them in
   * a child broker).
   */
  @Test
  void everyBreakingSwitchHasChecksAndNoCrashPointIsTurnedOn() {
    assertThat(CHECKS.keySet())
        .containsExactlyInAnyOrder(
            Arrays.stream(Sabotage.values())
                .filter(s -> !s.isCrashPoint())
                .toArray(Sabotage[]::new));
  }

  @Test
  void everySwitchIsCaughtByItsChecks() {
    Map<Sabotage, List<String>> caught = new LinkedHashMap<>();
    for (Map.Entry<Sabotage, List<String>> entry : CHECKS.entrySet()) {
      System.setProperty(Sabotage.PROPERTY, entry.getKey().name());
      try {
        caught.put(entry.getKey(), failures(entry.getValue()));
      } finally {
        System.clearProperty(Sabotage.PROPERTY);
      }
    }
    StringBuilder report = new StringBuilder("sabotage: which checks caught each switch\n");
    caught.forEach(
        (sabotage, failed) ->
            report
                .append("  ")
                .append(sabotage)
                .append(" -> ")
                .append(failed.isEmpty() ? "NOT CAUGHT" : String.join(", ", failed))
                .append('\n'));
    System.out.print(report);
    caught.forEach(
        (sabotage, failed) ->
            assertThat(failed).as(sabotage + " must make a check fail").isNotEmpty());
  }

  /** Runs the checks and returns the tests that failed (display paths). */
  private static List<String> failures(List<String> checks) {
    List<DiscoverySelector> selectors = new ArrayList<>();
    for (String check : checks) {
      int hash = check.indexOf('#');
      selectors.add(hash < 0 ? selectClass(check) : selectMethod(check));
    }
    LauncherDiscoveryRequest request =
        LauncherDiscoveryRequestBuilder.request().selectors(selectors).build();
    List<String> failed = new ArrayList<>();
    Launcher launcher = LauncherFactory.create();
    launcher.execute(
        request,
        new TestExecutionListener() {
          @Override
          public void executionFinished(TestIdentifier test, TestExecutionResult result) {
            if (test.isTest() && result.getStatus() == TestExecutionResult.Status.FAILED) {
              String why =
                  result.getThrowable().map(t -> String.valueOf(t.getMessage())).orElse("");
              why = why.replaceAll("\\s+", " ");
              failed.add(
                  test.getLegacyReportingName()
                      + " in "
                      + test.getUniqueId()
                          .replaceAll(".*\\[class:([^\\]]*)\\].*", "$1")
                          .replaceAll(".*\\.", "")
                      + " (\""
                      + (why.length() > 120 ? why.substring(0, 120) + "…" : why)
                      + "\")");
            }
          }
        });
    return failed;
  }
}
