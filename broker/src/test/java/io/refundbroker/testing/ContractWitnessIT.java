package io.refundbroker.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.auth.Tokens;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every broker of the suite reports what it sends to {@link ContractWitness}: in-process brokers
 * directly, child brokers through their exchange log when they stop.
 */
class ContractWitnessIT {
  @TempDir Path dataDir;

  @Test
  void anInProcessBrokerReportsEveryResponse() {
    assertThat(ContractWitness.installed()).as("ContractCheck installed the recorder").isTrue();
    assertThat(ContractWitness.global().check()).isEmpty();
    long before = ContractWitness.global().checkedCount();

    try (TestBroker broker = TestBroker.start()) {
      assertThat(broker.get("/health/live", null).status()).isEqualTo(200);
      assertThat(broker.get("/v1/me", null).status()).isEqualTo(401);
      assertThat(broker.get("/v1/me", broker.adminToken()).status()).isEqualTo(200);
    }

    assertThat(ContractWitness.global().check()).isEmpty();
    assertThat(ContractWitness.global().checkedCount() - before).isEqualTo(3);
  }

  @Test
  void aChildBrokerReportsEveryResponseWhenItStops() {
    TestDatabase db = TestPostgres.newDatabase();
    String adminToken = Tokens.newToken();
    Map<String, String> env = ChildEnv.base(db, dataDir, adminToken);
    assertThat(ContractWitness.global().check()).isEmpty();
    long before = ContractWitness.global().checkedCount();

    try (ChildBroker child = ChildBroker.start(env, Duration.ofSeconds(90))) {
      ChildSetup setup = new ChildSetup(child.baseUrl(), adminToken);
      ChildSetup.expect(setup.send("GET", "/v1/me", adminToken, null), 200);
      ChildSetup.expect(setup.send("GET", "/v1/me", "wrong", null), 401);
      // the child records a response after sending it: SIGKILL only once both are on file
      Poll.until(
          "the child recorded both answers and its readiness probe",
          Duration.ofSeconds(30),
          () -> child.recordedExchanges() >= 3);
      child.kill();
    }

    assertThat(ContractWitness.global().check()).isEmpty();
    assertThat(ContractWitness.global().checkedCount() - before)
        .as("both answers and at least one readiness probe")
        .isGreaterThanOrEqualTo(3);
  }
}
