package io.refundbroker.testing;

import io.refundbroker.config.BrokerConfig;
import io.refundbroker.config.BrokerConfig.VippsConfig;
import io.refundbroker.config.Secret;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.sandbox.SandboxOptions;
import io.refundbroker.sandbox.SandboxStore;
import io.refundbroker.sandbox.VippsSandbox;
import io.vertx.core.Vertx;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.assertj.core.api.Assertions;
import org.slf4j.LoggerFactory;

/**
 * A {@link VippsSandbox} for tests, on a random port, whose every received Vipps API request is
 * checked against the official Vipps specs ({@link VippsContract}) as it arrives. Violations are
 * collected; test classes call {@link #assertNoViolations()} at the end. When the specs are not
 * available the checks are off ({@link #contractChecked()} is false) and a warning says why.
 */
public final class TestSandbox implements AutoCloseable {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Optional<VippsContract> CONTRACT = loadContract();

  private final Vertx vertx;
  private final boolean ownsVertx;
  private final VippsSandbox sandbox;
  private final List<String> violations = new CopyOnWriteArrayList<>();

  private TestSandbox(Vertx vertx, boolean ownsVertx, VippsSandbox sandbox) {
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.sandbox = sandbox;
    CONTRACT.ifPresent(
        contract -> sandbox.onRequest(r -> violations.addAll(contract.violations(r))));
  }

  private void check(VippsContract contract, RecordedRequest request) {
    try {
      violations.addAll(contract.violations(request));
    } catch (RuntimeException e) {
      violations.add(request.method() + " " + request.path() + ": the validator failed: " + e);
    }
  }

  private static Optional<VippsContract> loadContract() {
    Optional<VippsContract> contract = VippsContract.load();
    if (contract.isEmpty()) {
      LoggerFactory.getLogger(TestSandbox.class).warn(VippsContract.missingMessage());
    }
    return contract;
  }

  /** A sandbox with default options on its own Vert.x. */
  public static TestSandbox start() {
    return start(SandboxOptions.defaults());
  }

  /** A sandbox with {@code options} (its port forced to 0) on its own Vert.x. */
  public static TestSandbox start(SandboxOptions options) {
    Vertx vertx = Vertx.vertx();
    try {
      return new TestSandbox(
          vertx, true, Await.result(VippsSandbox.start(vertx, options.withPort(0))));
    } catch (RuntimeException | Error e) {
      Await.result(vertx.close());
      throw e;
    }
  }

  /** A sandbox on a Vert.x the caller owns. */
  public static TestSandbox start(Vertx vertx, SandboxOptions options) {
    return new TestSandbox(
        vertx, false, Await.result(VippsSandbox.start(vertx, options.withPort(0))));
  }

  /** Whether requests are being checked against the Vipps specs. */
  public static boolean contractChecked() {
    return CONTRACT.isPresent();
  }

  /** The loaded specs, if any. */
  public static Optional<VippsContract> contract() {
    return CONTRACT;
  }

  public VippsSandbox sandbox() {
    return sandbox;
  }

  public Vertx vertx() {
    return vertx;
  }

  public String baseUrl() {
    return sandbox.baseUrl();
  }

  /** Spec violations of the requests received so far. */
  public List<String> violations() {
    return List.copyOf(violations);
  }

  /** Forgets the violations collected so far (after a deliberately malformed request). */
  public void clearViolations() {
    violations.clear();
  }

  /** Fails when any request received so far broke the Vipps specs. */
  public void assertNoViolations() {
    Assertions.assertThat(violations)
        .as("requests the sandbox received that break the official Vipps specs")
        .isEmpty();
  }

  /** The requests received on one path (e.g. {@code /accesstoken/get}). */
  public List<RecordedRequest> requestsTo(String path) {
    return sandbox.requests().stream().filter(r -> r.path().equals(path)).toList();
  }

  /**
   * Registers a new store with random keys (a GUID client id, random secrets) and returns them as
   * the broker would read them from the credential store (version 1).
   */
  public StoreCredentials newStore(String msn) {
    return rotate(msn, 1);
  }

  /** Gives {@code msn} a new key set with {@code version}; the old keys stop working. */
  public StoreCredentials rotate(String msn, int version) {
    return register(
        new StoreCredentials(
            msn,
            version,
            UUID.randomUUID().toString(),
            Secret.of("cs-" + randomHex(24)),
            Secret.of("sk-" + randomHex(16))));
  }

  /** Makes {@code credentials} the keys Vipps takes for their MSN (the old ones stop working). */
  public StoreCredentials register(StoreCredentials credentials) {
    sandbox.registerStore(
        new SandboxStore(
            credentials.msn(),
            credentials.clientId(),
            credentials.clientSecret(),
            credentials.subscriptionKey()));
    return credentials;
  }

  /** Random hex, e.g. for canary secrets. */
  public static String randomHex(int bytes) {
    byte[] raw = new byte[bytes];
    RANDOM.nextBytes(raw);
    return HexFormat.of().formatHex(raw);
  }

  /**
   * The broker's Vipps configuration pointing at this sandbox, with quick test defaults (100 ms
   * backoff base is too slow for tests: 5 ms) and {@code overrides} as environment variables.
   */
  public VippsConfig clientConfig(String... overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("VIPPS_BASE_URL", baseUrl());
    env.put("VIPPS_RETRY_BACKOFF", "5ms");
    env.put("VIPPS_READ_TIMEOUT", "2s");
    for (int i = 0; i + 1 < overrides.length; i += 2) {
      env.put(overrides[i], overrides[i + 1]);
    }
    return BrokerConfig.fromEnvironment(env).vipps();
  }

  @Override
  public void close() {
    Await.result(sandbox.close());
    if (ownsVertx) {
      Await.result(vertx.close());
    }
  }
}
