package io.refundbroker.testing;

import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Registered for every test class of the suite (JUnit's extension auto-detection, {@code
 * junit-platform.properties}): makes every broker record its responses ({@link
 * ContractWitness#install}) and fails the test — or the class, for brokers shared by its tests —
 * during which a response departed from {@code openapi.yaml}. At the end of the run it prints how
 * many responses were checked.
 */
public final class ContractCheck implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
  private static final String SUMMARY = "contract-summary";

  private final ContractWitness witness;

  /** Checks what every broker of this JVM sends (made by JUnit). */
  public ContractCheck() {
    this(ContractWitness.global());
  }

  ContractCheck(ContractWitness witness) {
    this.witness = witness;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    ContractWitness.install();
    context
        .getRoot()
        .getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(SUMMARY, key -> new Summary(), Summary.class);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    fail(witness.check());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    fail(witness.check());
  }

  private static void fail(List<String> violations) {
    if (!violations.isEmpty()) {
      throw new AssertionError(
          violations.size()
              + " response(s) departed from openapi.yaml:\n  "
              + String.join("\n  ", violations));
    }
  }

  /** Closed when the whole run ends: reports the count (and any late violation). */
  private static final class Summary implements ExtensionContext.Store.CloseableResource {
    @Override
    public void close() {
      List<String> late = ContractWitness.global().check();
      if (!late.isEmpty()) {
        System.out.println(
            "contract: violations after the last test:\n  " + String.join("\n  ", late));
      }
      System.out.println(ContractWitness.global().summary());
    }
  }
}
