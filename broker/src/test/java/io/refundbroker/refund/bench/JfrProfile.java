package io.refundbroker.refund.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * A JDK Flight Recorder profile of the broker process over one phase (async-profiler is not
 * available here): started and stopped with {@code jcmd} ({@code settings=profile}: a Java stack
 * sample every 10 ms per running thread), then read with {@code jdk.jfr.consumer} into where the
 * broker's CPU goes — by top frame (self), by method anywhere on the stack (inclusive), by the
 * nearest broker method, by component, and by thread — plus allocation, GC and JIT activity.
 *
 * <p>Java stack samples cover Java threads running Java code only: GC threads, and time in native
 * code (socket writes, epoll), are not in them; the thread CPU table and the GC line cover those.
 */
final class JfrProfile {
  private static final String RECORDING = "refund-bench";
  private static final int SAMPLE_MILLIS = 2;

  /** Components, matched on any frame of a sample (so a sample may count in several). */
  private static final Map<String, Predicate<String>> COMPONENTS = new LinkedHashMap<>();

  static {
    COMPONENTS.put(
        "OpenAPI request validation (vertx-openapi, json-schema)",
        c -> c.startsWith("io.vertx.openapi") || c.startsWith("io.vertx.json.schema"));
    COMPONENTS.put(
        "JSON coding (Jackson, Vert.x JSON)",
        c -> c.startsWith("com.fasterxml.jackson") || c.startsWith("io.vertx.core.json"));
    COMPONENTS.put(
        "logging (Logback, SLF4J, our encoder)",
        c ->
            c.startsWith("ch.qos.logback")
                || c.startsWith("org.slf4j")
                || c.startsWith("io.refundbroker.logging"));
    COMPONENTS.put(
        "PostgreSQL client (vertx-pg-client, sql-client)",
        c -> c.startsWith("io.vertx.pgclient") || c.startsWith("io.vertx.sqlclient"));
    COMPONENTS.put(
        "Vipps client (web client, our vipps package)",
        c -> c.startsWith("io.vertx.ext.web.client") || c.startsWith("io.refundbroker.vipps"));
    COMPONENTS.put(
        "router and web handlers (vertx-web)",
        c -> c.startsWith("io.vertx.ext.web") && !c.startsWith("io.vertx.ext.web.client"));
    COMPONENTS.put(
        "HTTP codec (Vert.x core http, Netty http)",
        c -> c.startsWith("io.vertx.core.http") || c.startsWith("io.netty.handler.codec.http"));
    COMPONENTS.put(
        "hashing and MACs (JCA)",
        c ->
            c.startsWith("sun.security")
                || c.startsWith("com.sun.crypto")
                || c.startsWith("javax.crypto")
                || c.startsWith("java.security"));
    COMPONENTS.put("audit (our audit package)", c -> c.startsWith("io.refundbroker.audit"));
    COMPONENTS.put(
        "futures and context switching (Vert.x core impl)",
        c -> c.startsWith("io.vertx.core.impl") || c.startsWith("io.vertx.core.Future"));
    COMPONENTS.put(
        "Netty channel I/O and buffers",
        c ->
            c.startsWith("io.netty.channel")
                || c.startsWith("io.netty.buffer")
                || c.startsWith("io.netty.util"));
  }

  private JfrProfile() {}

  /**
   * Starts a recording in the process {@code pid}: the JDK's {@code profile} settings with a Java
   * stack sample every {@value #SAMPLE_MILLIS} ms (instead of 10) and thread CPU loads every second
   * (instead of 10), written to {@code settingsDir}.
   */
  static void start(long pid, Path settingsDir) {
    Path profile = Path.of(System.getProperty("java.home"), "lib", "jfr", "profile.jfc");
    Path settings = settingsDir.resolve("bench-profile.jfc");
    try {
      String jfc = Files.readString(profile);
      String sampled =
          jfc.replace(
                  "control=\"method-sampling-java-interval\">10 ms<",
                  "control=\"method-sampling-java-interval\">" + SAMPLE_MILLIS + " ms<")
              .replaceAll(
                  "(<event name=\"jdk.ThreadCPULoad\">\\s*<setting name=\"enabled\">true"
                      + "</setting>\\s*<setting name=\"period\">)10 s<",
                  "$11 s<");
      Files.writeString(settings, sampled);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + profile, e);
    }
    jcmd(pid, "JFR.start", "name=" + RECORDING, "settings=" + settings.toAbsolutePath());
  }

  /** Stops the recording and writes it to {@code file}. */
  static void stop(long pid, Path file) {
    jcmd(pid, "JFR.stop", "name=" + RECORDING, "filename=" + file.toAbsolutePath());
  }

  private static void jcmd(long pid, String... command) {
    List<String> line = new ArrayList<>();
    line.add(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString());
    line.add(Long.toString(pid));
    line.addAll(List.of(command));
    try {
      Process process = new ProcessBuilder(line).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes());
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", line) + " failed: " + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** What a recording says, as text (printed) and as JSON (for {@code summary.json}). */
  record Report(String text, JsonObject json) {}

  /**
   * Reads the events of {@code file} that started in {@code [from, to)} and ranks where the CPU
   * went; {@code cores} normalises thread loads.
   */
  static Report analyse(
      Path file, java.time.Instant from, java.time.Instant to, int top, int cores) {
    List<RecordedEvent> events;
    try {
      events = RecordingFile.readAllEvents(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    Map<String, Long> self = new HashMap<>();
    Map<String, Long> inclusive = new HashMap<>();
    Map<String, Long> selfPackage = new HashMap<>();
    Map<String, Long> nearestBroker = new HashMap<>();
    Map<String, Long> components = new LinkedHashMap<>();
    Map<String, Long> samplesByThread = new HashMap<>();
    COMPONENTS.keySet().forEach(k -> components.put(k, 0L));
    Map<String, Double> threadLoad = new HashMap<>();
    Map<Long, Long> eventsPerThread = new HashMap<>();
    Map<String, Long> allocByClass = new HashMap<>();
    Map<String, Long> allocByBroker = new HashMap<>();
    double jvmCpu = 0;
    double machineCpu = 0;
    int cpuSamples = 0;
    long samples = 0;
    long gcCount = 0;
    Duration gcPause = Duration.ZERO;
    Duration gcLongest = Duration.ZERO;
    long compilations = 0;
    Duration compiling = Duration.ZERO;
    long allocated = 0;
    java.time.Instant first = null;
    java.time.Instant last = null;
    for (RecordedEvent event : events) {
      if (event.getStartTime().isBefore(from) || !event.getStartTime().isBefore(to)) {
        continue;
      }
      if (first == null || event.getStartTime().isBefore(first)) {
        first = event.getStartTime();
      }
      if (last == null || event.getEndTime().isAfter(last)) {
        last = event.getEndTime();
      }
      switch (event.getEventType().getName()) {
        case "jdk.ExecutionSample" -> {
          RecordedStackTrace stack = event.getStackTrace();
          if (stack == null || stack.getFrames().isEmpty()) {
            continue;
          }
          samples++;
          RecordedThread thread = event.getThread("sampledThread");
          samplesByThread.merge(threadGroup(thread), 1L, Long::sum);
          List<RecordedFrame> frames = stack.getFrames();
          String topMethod = method(frames.get(0));
          self.merge(topMethod, 1L, Long::sum);
          selfPackage.merge(packageOf(frames.get(0)), 1L, Long::sum);
          Set<String> seen = new HashSet<>();
          Set<String> hitComponents = new HashSet<>();
          String broker = null;
          for (RecordedFrame frame : frames) {
            String m = method(frame);
            if (seen.add(m)) {
              inclusive.merge(m, 1L, Long::sum);
            }
            String type = frame.getMethod().getType().getName();
            if (broker == null && type.startsWith("io.refundbroker.")) {
              broker = m;
            }
            COMPONENTS.forEach(
                (name, matches) -> {
                  if (matches.test(type)) {
                    hitComponents.add(name);
                  }
                });
          }
          hitComponents.forEach(c -> components.merge(c, 1L, Long::sum));
          nearestBroker.merge(
              broker == null ? "(no broker frame: Netty, Vert.x, JDK only)" : broker,
              1L,
              Long::sum);
        }
        case "jdk.ThreadCPULoad" -> {
          RecordedThread thread = event.getThread("eventThread");
          threadLoad.merge(
              threadGroup(thread),
              (double) event.getFloat("user") + event.getFloat("system"),
              Double::sum);
          eventsPerThread.merge(thread == null ? -1 : thread.getJavaThreadId(), 1L, Long::sum);
        }
        case "jdk.CPULoad" -> {
          jvmCpu += event.getFloat("jvmUser") + event.getFloat("jvmSystem");
          machineCpu += event.getFloat("machineTotal");
          cpuSamples++;
        }
        case "jdk.GarbageCollection" -> {
          gcCount++;
          Duration pause = event.getDuration("sumOfPauses");
          gcPause = gcPause.plus(pause);
          if (pause.compareTo(gcLongest) > 0) {
            gcLongest = pause;
          }
        }
        case "jdk.Compilation" -> {
          compilations++;
          compiling = compiling.plus(event.getDuration());
        }
        case "jdk.ObjectAllocationSample" -> {
          long weight = event.getLong("weight");
          allocated += weight;
          allocByClass.merge(event.getClass("objectClass").getName(), weight, Long::sum);
          RecordedStackTrace stack = event.getStackTrace();
          String broker = "(no broker frame)";
          if (stack != null) {
            for (RecordedFrame frame : stack.getFrames()) {
              if (frame.getMethod().getType().getName().startsWith("io.refundbroker.")) {
                broker = method(frame);
                break;
              }
            }
          }
          allocByBroker.merge(broker, weight, Long::sum);
        }
        default -> {
          // other events are not ranked
        }
      }
    }
    double seconds = first == null ? 0 : Duration.between(first, last).toMillis() / 1000.0;
    StringBuilder out = new StringBuilder();
    JsonObject json = new JsonObject().put("file", file.toString()).put("seconds", seconds);
    out.append(
        String.format(
            "JFR profile of the broker (%s, %.0f s): %,d Java stack samples; JVM CPU %.2f cores of"
                + " %d (machine %.0f%% busy)%n",
            file.getFileName(),
            seconds,
            samples,
            cpuSamples == 0 ? 0 : jvmCpu / cpuSamples * cores,
            cores,
            cpuSamples == 0 ? 0 : machineCpu / cpuSamples * 100));
    json.put("samples", samples).put("jvmCores", cpuSamples == 0 ? 0 : jvmCpu / cpuSamples * cores);

    out.append("\nby component (a sample counts in every component on its stack):\n");
    JsonObject comp = new JsonObject();
    for (Map.Entry<String, Long> e : sorted(components, components.size())) {
      out.append(String.format("  %5.1f%%  %s%n", percent(e.getValue(), samples), e.getKey()));
      comp.put(e.getKey(), round(percent(e.getValue(), samples)));
    }
    json.put("componentsPercent", comp);

    json.put("selfTop", table(out, "top frames (self)", self, samples, top));
    json.put("selfPackages", table(out, "self by package", selfPackage, samples, 15));
    json.put(
        "nearestBrokerMethod",
        table(
            out,
            "by the nearest broker method on the stack (what our code caused)",
            nearestBroker,
            samples,
            top));
    json.put(
        "inclusiveTop",
        table(out, "inclusive (method anywhere on the stack)", inclusive, samples, top));
    json.put("samplesByThread", table(out, "Java samples by thread", samplesByThread, samples, 10));

    out.append("\nCPU by thread group (jdk.ThreadCPULoad of Java threads; cores):\n");
    JsonObject threads = new JsonObject();
    // one event per thread and period: a group's mean load is its sum over the number of periods
    long periods =
        Math.max(1, eventsPerThread.values().stream().mapToLong(Long::longValue).max().orElse(1));
    double javaThreads = 0;
    for (Map.Entry<String, Double> e :
        threadLoad.entrySet().stream()
            .sorted(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder()))
            .toList()) {
      double coresUsed = e.getValue() / periods * cores;
      javaThreads += coresUsed;
      if (coresUsed >= 0.005) {
        out.append(String.format("  %.3f  %s%n", coresUsed, e.getKey()));
        threads.put(e.getKey(), round(coresUsed));
      }
    }
    double jvm = cpuSamples == 0 ? 0 : jvmCpu / cpuSamples * cores;
    out.append(
        String.format(
            "  %.3f  (JVM total minus Java threads: GC and other VM threads)%n",
            Math.max(0, jvm - javaThreads)));
    threads.put("gcAndVm", round(Math.max(0, jvm - javaThreads)));
    json.put("threadCores", threads);

    out.append(
        String.format(
            "%nGC: %d collections, %d ms paused in total, longest %d ms; JIT: %d compilations,"
                + " %d ms compiling; allocation %,.0f MB/s (sampled)%n",
            gcCount,
            gcPause.toMillis(),
            gcLongest.toMillis(),
            compilations,
            compiling.toMillis(),
            seconds == 0 ? 0 : allocated / 1e6 / seconds));
    json.put("gcCount", gcCount)
        .put("gcPauseMs", gcPause.toMillis())
        .put("compilations", compilations)
        .put("allocationMBps", seconds == 0 ? 0 : round(allocated / 1e6 / seconds));
    json.put(
        "allocationByClass",
        table(out, "allocation by class (share of sampled bytes)", allocByClass, allocated, 10));
    json.put(
        "allocationByBrokerMethod",
        table(out, "allocation by nearest broker method", allocByBroker, allocated, 10));
    return new Report(out.toString(), json);
  }

  private static JsonArray table(
      StringBuilder out, String title, Map<String, Long> counts, long total, int top) {
    out.append('\n').append(title).append(":\n");
    JsonArray rows = new JsonArray();
    for (Map.Entry<String, Long> e : sorted(counts, top)) {
      double share = percent(e.getValue(), total);
      out.append(String.format("  %5.1f%%  %s%n", share, e.getKey()));
      rows.add(new JsonObject().put("name", e.getKey()).put("percent", round(share)));
    }
    return rows;
  }

  private static List<Map.Entry<String, Long>> sorted(Map<String, Long> counts, int top) {
    return counts.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()))
        .limit(top)
        .toList();
  }

  private static String method(RecordedFrame frame) {
    return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
  }

  private static String packageOf(RecordedFrame frame) {
    String type = frame.getMethod().getType().getName();
    String[] parts = type.split("\\.");
    int keep = Math.max(1, Math.min(parts.length - 1, 3));
    return String.join(".", java.util.Arrays.copyOf(parts, keep));
  }

  /** Thread names without their numbers: event loops, workers, GC and compiler threads grouped. */
  private static String threadGroup(RecordedThread thread) {
    if (thread == null) {
      return "(unknown)";
    }
    String name = thread.getJavaName() != null ? thread.getJavaName() : thread.getOSName();
    if (name == null) {
      return "(unnamed)";
    }
    if (name.startsWith("vert.x-eventloop-thread-")) {
      return name;
    }
    return name.replaceAll("[0-9]+", "#");
  }

  private static double percent(long part, long total) {
    return total == 0 ? 0 : part * 100.0 / total;
  }

  private static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }

  /** Writes {@code report} next to the recording. */
  static void save(Report report, Path file) {
    try {
      Files.writeString(file, report.text());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
