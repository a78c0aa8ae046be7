package io.refundbroker.app;

import io.refundbroker.config.BrokerConfig;
import io.refundbroker.sandbox.SandboxOptions;
import io.refundbroker.sandbox.VippsSandbox;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in Vipps sandbox running beside the broker in the same process ({@code serve
 * --sandbox}; the {@code demo} command can reuse it): its own Vert.x, loopback only, on {@code
 * SANDBOX_PORT}. Blocking; used from the CLI's main thread only.
 */
public final class EmbeddedSandbox implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedSandbox.class);
  private final Vertx vertx;
  private final VippsSandbox sandbox;

  private EmbeddedSandbox(Vertx vertx, VippsSandbox sandbox) {
    this.vertx = vertx;
    this.sandbox = sandbox;
  }

  /**
   * Starts the sandbox on {@code 127.0.0.1:SANDBOX_PORT}.
   *
   * @throws Exception when the port cannot be bound (nothing is left running)
   */
  public static EmbeddedSandbox start(BrokerConfig config) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      VippsSandbox sandbox =
          VippsSandbox.start(vertx, SandboxOptions.defaults().withPort(config.sandbox().port()))
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      return new EmbeddedSandbox(vertx, sandbox);
    } catch (Exception | Error e) {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw e;
    }
  }

  public VippsSandbox sandbox() {
    return sandbox;
  }

  /** {@code http://127.0.0.1:<port>}. */
  public String baseUrl() {
    return sandbox.baseUrl();
  }

  /** {@code env} with {@code VIPPS_BASE_URL} pointing at this sandbox. */
  public Map<String, String> environment(Map<String, String> env) {
    Map<String, String> effective = new HashMap<>(env);
    effective.put("VIPPS_BASE_URL", baseUrl());
    return effective;
  }

  /** Tells a developer where the sandbox is and how to seed it. */
  public void printHowToSeed(PrintStream out, boolean baseUrlOverridden) {
    String url = baseUrl();
    out.println();
    out.println("================================================================");
    out.println(" Vipps sandbox (offline stand-in for Vipps MobilePay) on " + url);
    out.println(
        " VIPPS_BASE_URL points at it" + (baseUrlOverridden ? " (your value is ignored)." : "."));
    out.println(" Seed it through its control API (in memory only):");
    out.println();
    out.println(
        "   curl -s -H 'Content-Type: application/json' -d '{\"msn\":\"123456\","
            + "\"clientId\":\"<client-id>\",\"clientSecret\":\"<client-secret>\","
            + "\"subscriptionKey\":\"<subscription-key>\"}' "
            + url
            + "/sandbox/v1/stores");
    out.println(
        "   curl -s -H 'Content-Type: application/json' -d '{\"msn\":\"123456\","
            + "\"reference\":\"123456-order-0001\",\"api\":\"epayment\","
            + "\"captured\":{\"value\":49900,\"currency\":\"NOK\"}}' "
            + url
            + "/sandbox/v1/payments");
    out.println("   curl -s " + url + "/sandbox/v1/ledger");
    out.println();
    out.println(" Give the broker the same keys for that store's MSN. All endpoints, faults");
    out.println(" and settings: curl -s " + url + "/sandbox/v1");
    out.println("================================================================");
    out.println();
    out.flush();
  }

  /** Stops the sandbox (closing its Vert.x closes its server). */
  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn("the Vipps sandbox did not stop cleanly", e);
    }
  }
}
