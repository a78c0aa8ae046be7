package io.refundbroker.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refundbroker.testing.vault.VaultSpecCheck;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Missing contract specs skip their checks on a developer's machine and fail CI's run. */
class SpecsTest {

  @Test
  void missingSpecsFailARunWithCiTrue() {
    assertThatThrownBy(() -> Specs.missing(Map.of("CI", "true"), "no vipps/epayment-v1.yaml"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("CI=true")
        .hasMessageContaining("no vipps/epayment-v1.yaml");
  }

  @Test
  void missingSpecsOnlyWarnWithoutCi() {
    assertThatCode(() -> Specs.missing(Map.of(), "no vipps/epayment-v1.yaml"))
        .doesNotThrowAnyException();
    assertThatCode(() -> Specs.missing(Map.of("CI", "false"), "x")).doesNotThrowAnyException();
  }

  /** On CI the specs this run resolved must be there (this fails early, in the unit tests). */
  @Test
  void thisRunHasItsSpecsWhenItIsCi() {
    if (Specs.onCi(System.getenv())) {
      assertThat(VippsContract.specsDir()).as("Vipps specs (CONTRACTS_DIR)").isPresent();
      assertThat(VaultSpecCheck.specPresent()).as("Vault spec (CONTRACTS_DIR)").isTrue();
    }
  }
}
