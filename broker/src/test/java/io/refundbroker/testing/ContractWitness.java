package io.refundbroker.testing;

import io.refundbroker.http.ExchangeTap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Collects the responses brokers send (in-process through {@link ResponseRecorder}, child brokers
 * through their {@link ExchangeLog}) and checks each against {@code openapi.yaml} with {@link
 * ResponseContract}. {@link ContractCheck} fails the test during which a violation turned up.
 *
 * <p>{@link #global()} is the one every broker of the test JVM reports to (process-wide by
 * necessity: brokers of any test report there). Thread-safe: recording only adds to a concurrent
 * queue (from event loops); checking and the counts are guarded by the instance's lock.
 */
public final class ContractWitness {
  private static final ContractWitness GLOBAL = new ContractWitness();

  private final Queue<Exchange> pending = new ConcurrentLinkedQueue<>();
  private final Map<String, Long> byOperation = new TreeMap<>();
  private long checked;
  private long violations;

  /** A witness of its own (for tests of the check itself). */
  ContractWitness() {}

  /** The witness every broker of this JVM reports to. */
  public static ContractWitness global() {
    return GLOBAL;
  }

  /** Makes every broker started from now on in this JVM (and its child brokers) record. */
  public static void install() {
    System.setProperty(ExchangeTap.PROPERTY, ResponseRecorder.class.getName());
  }

  /** Whether brokers started now record their responses. */
  public static boolean installed() {
    return ResponseRecorder.class.getName().equals(System.getProperty(ExchangeTap.PROPERTY));
  }

  /** Called by the recorder once a response has been sent. */
  void record(Exchange exchange) {
    pending.add(exchange);
  }

  /** Takes over the exchanges a child broker logged to {@code file}, and deletes the file. */
  void collect(Path file) {
    pending.addAll(ExchangeLog.read(file));
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Checks every exchange recorded since the last call.
   *
   * @return one line per violation: the exchange, its operation and what is wrong
   */
  public synchronized List<String> check() {
    ResponseContract contract = ResponseContract.broker();
    List<String> found = new ArrayList<>();
    for (Exchange exchange = pending.poll(); exchange != null; exchange = pending.poll()) {
      Optional<ResponseContract.Operation> op =
          contract.operation(exchange.method(), exchange.path());
      String operationId = op.map(ResponseContract.Operation::operationId).orElse("(none)");
      byOperation.merge(operationId, 1L, Long::sum);
      checked++;
      for (String violation : contract.violations(exchange)) {
        found.add(exchange.describe() + " [" + operationId + "]: " + violation);
      }
    }
    violations += found.size();
    return found;
  }

  /** Responses checked and violations found so far, and the responses per operation. */
  public synchronized String summary() {
    return "contract: "
        + checked
        + " responses checked against openapi.yaml, "
        + violations
        + " violations; per operation "
        + byOperation;
  }

  public synchronized long checkedCount() {
    return checked;
  }
}
