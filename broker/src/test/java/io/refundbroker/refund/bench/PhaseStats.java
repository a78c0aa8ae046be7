package io.refundbroker.refund.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one load phase saw: the latency of every successful request (exact, every sample kept — a
 * phase has at most a few hundred thousand) and a count of every other answer by status and problem
 * code. Written only from the load generator's event loop; read after the phase's future completed.
 */
final class PhaseStats {
  final String name;
  final int expectedStatus;
  private long[] okNanos = new long[1 << 16];
  // when each successful request was due (System.nanoTime), for the per-second timeline
  private long[] okDue = new long[1 << 16];
  private int ok;
  private long okInWindow;
  private long sent;
  private long completedInWindow;
  private final Map<String, Long> others = new TreeMap<>();
  private final Map<String, String> exampleBodies = new TreeMap<>();
  long windowNanos;
  int maxInFlight;

  /** Open loop only: when it stopped because too many requests were unanswered (0: never). */
  long gaveUpAfterNanos;

  PhaseStats(String name, int expectedStatus) {
    this.name = name;
    this.expectedStatus = expectedStatus;
  }

  void sent() {
    sent++;
  }

  /**
   * Records one answer.
   *
   * @param latencyNanos from (intended) send to the full answer
   * @param inWindow whether it completed inside the measured window (counts for throughput)
   * @param status HTTP status, or 0 when the request failed without an answer
   * @param code the problem's {@code code} (or the failure's class) for any other status
   */
  void record(long latencyNanos, boolean inWindow, int status, String code, String body) {
    if (inWindow) {
      completedInWindow++;
    }
    if (status == expectedStatus) {
      if (ok == okNanos.length) {
        okNanos = Arrays.copyOf(okNanos, ok * 2);
        okDue = Arrays.copyOf(okDue, ok * 2);
      }
      okDue[ok] = System.nanoTime() - latencyNanos;
      okNanos[ok++] = latencyNanos;
      if (inWindow) {
        okInWindow++;
      }
      return;
    }
    String key = status + (code == null ? "" : " " + code);
    others.merge(key, 1L, Long::sum);
    if (body != null) {
      exampleBodies.putIfAbsent(key, body.length() > 300 ? body.substring(0, 300) + "…" : body);
    }
  }

  long sentCount() {
    return sent;
  }

  long okCount() {
    return ok;
  }

  long okInWindow() {
    return okInWindow;
  }

  long completedInWindow() {
    return completedInWindow;
  }

  long othersCount() {
    return others.values().stream().mapToLong(Long::longValue).sum();
  }

  Map<String, Long> others() {
    return others;
  }

  Map<String, String> exampleBodies() {
    return exampleBodies;
  }

  /** Successful answers per second inside the window. */
  double okPerSecond() {
    return windowNanos == 0 ? 0 : okInWindow * 1e9 / windowNanos;
  }

  /** Latency percentiles of the successful answers, in milliseconds. */
  Percentiles percentiles() {
    long[] sorted = Arrays.copyOf(okNanos, ok);
    Arrays.sort(sorted);
    return new Percentiles(
        ok,
        at(sorted, 0.50),
        at(sorted, 0.95),
        at(sorted, 0.99),
        at(sorted, 0.999),
        ok == 0 ? Double.NaN : sorted[ok - 1] / 1e6);
  }

  /**
   * The successful requests grouped by the second of the phase they were due in: how many seconds
   * had a p99 above {@code p99LimitMs}, and the slowest few (by their slowest request) — where a
   * phase's tail comes from (a few seconds of stall, or every second alike).
   */
  String timeline(double p99LimitMs, int slowest) {
    if (ok == 0) {
      return "no answers";
    }
    long first = Arrays.stream(okDue, 0, ok).min().orElseThrow();
    Map<Long, List<Long>> bySecond = new TreeMap<>();
    for (int i = 0; i < ok; i++) {
      bySecond
          .computeIfAbsent((okDue[i] - first) / 1_000_000_000L, s -> new ArrayList<>())
          .add(okNanos[i]);
    }
    int over = 0;
    List<long[]> worst = new ArrayList<>();
    for (Map.Entry<Long, List<Long>> e : bySecond.entrySet()) {
      long[] sorted = e.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
      double p99 = at(sorted, 0.99);
      if (p99 > p99LimitMs) {
        over++;
      }
      worst.add(
          new long[] {e.getKey(), sorted[sorted.length - 1], sorted.length, (long) (p99 * 1e6)});
    }
    worst.sort((a, b) -> Long.compare(b[1], a[1]));
    StringBuilder text =
        new StringBuilder(
            String.format(
                "%d of %d seconds had a p99 above %.0f ms; slowest seconds (due at t, slowest"
                    + " answer, p99, requests):",
                over, bySecond.size(), p99LimitMs));
    for (long[] w : worst.subList(0, Math.min(slowest, worst.size()))) {
      text.append(
          String.format(" t=%ds %.0f ms, p99 %.0f ms, n=%d;", w[0], w[1] / 1e6, w[3] / 1e6, w[2]));
    }
    return text.substring(0, text.length() - 1);
  }

  private static double at(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
  }

  /** Nearest-rank percentiles, milliseconds. */
  record Percentiles(int count, double p50, double p95, double p99, double p999, double max) {
    String describe() {
      return String.format(
          "p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms (n=%,d)",
          p50, p95, p99, p999, max, count);
    }
  }
}
