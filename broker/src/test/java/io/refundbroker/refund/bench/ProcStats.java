package io.refundbroker.refund.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads Linux {@code /proc}: a process's resident memory ({@code VmRSS}, {@code VmHWM}), the CPU
 * time of a process tree, the machine's CPU counters and load average. Everything here is a
 * snapshot; callers take two and subtract.
 */
final class ProcStats {
  /** USER_HZ: the unit of the CPU times in {@code /proc/<pid>/stat} (100 on every Linux ABI). */
  static final double TICKS_PER_SECOND = 100.0;

  private ProcStats() {}

  /** {@code VmRSS} of {@code pid} in KiB, or -1 when the process is gone. */
  static long rssKib(long pid) {
    return statusKib(pid, "VmRSS:");
  }

  /** {@code VmHWM} (peak resident set since the process started) in KiB, or -1. */
  static long peakRssKib(long pid) {
    return statusKib(pid, "VmHWM:");
  }

  private static long statusKib(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** user + system CPU ticks of {@code pid} (0 when it is gone). */
  static long cpuTicks(long pid) {
    String[] fields = statFields(pid);
    return fields == null ? 0 : Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  /** user + system CPU ticks of {@code root} and all its descendants alive now. */
  static long treeCpuTicks(long root) {
    long total = 0;
    for (long pid : tree(root)) {
      total += cpuTicks(pid);
    }
    return total;
  }

  /**
   * CPU ticks of a PostgreSQL server's processes by kind: {@code backends of <user>} (client
   * connections, by login role), {@code walwriter}, {@code checkpointer}, {@code background
   * writer}, {@code autovacuum}, {@code other} (postmaster and other helpers), and {@code exited}:
   * processes that ended since the server started (autovacuum workers, short connections), whose
   * time the postmaster collected when it reaped them.
   */
  static Map<String, Long> postgresTicksByKind(long postmaster) {
    Map<String, Long> byKind = new java.util.TreeMap<>();
    for (long pid : tree(postmaster)) {
      byKind.merge(postgresKind(pid), cpuTicks(pid), Long::sum);
    }
    String[] fields = statFields(postmaster);
    if (fields != null) {
      byKind.merge("exited", Long.parseLong(fields[13]) + Long.parseLong(fields[14]), Long::sum);
    }
    return byKind;
  }

  private static String postgresKind(long pid) {
    String title;
    try {
      title = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
    } catch (IOException | RuntimeException e) {
      return "other";
    }
    if (!title.startsWith("postgres: ")) {
      return "other";
    }
    String rest = title.substring("postgres: ".length()).trim();
    for (String helper :
        List.of("walwriter", "checkpointer", "background writer", "autovacuum", "walsender")) {
      if (rest.startsWith(helper)) {
        return helper.equals("autovacuum") ? "autovacuum" : helper;
      }
    }
    if (rest.startsWith("logical replication") || rest.startsWith("archiver")) {
      return "other";
    }
    // a client backend's title: "<user> <database> <host>(<port>) <state>"
    String user = rest.split(" ", 2)[0];
    return "backends of " + user;
  }

  /** {@code root} and every live descendant. */
  static Set<Long> tree(long root) {
    Map<Long, List<Long>> children = new HashMap<>();
    try (var dirs = Files.list(Path.of("/proc"))) {
      for (Path dir : dirs.toList()) {
        String name = dir.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        long pid = Long.parseLong(name);
        String[] fields = statFields(pid);
        if (fields != null) {
          children.computeIfAbsent(Long.parseLong(fields[1]), k -> new ArrayList<>()).add(pid);
        }
      }
    } catch (IOException e) {
      return Set.of(root);
    }
    Set<Long> seen = new HashSet<>();
    List<Long> todo = new ArrayList<>(List.of(root));
    while (!todo.isEmpty()) {
      long pid = todo.remove(todo.size() - 1);
      if (seen.add(pid)) {
        todo.addAll(children.getOrDefault(pid, List.of()));
      }
    }
    return seen;
  }

  /**
   * The fields of {@code /proc/<pid>/stat} after the command name: index 0 is the state, 1 the
   * parent pid, 11 utime, 12 stime (the man page's fields 3, 4, 14, 15). Null when gone.
   */
  /**
   * user + system CPU ticks of the JIT compiler threads of {@code pid} alive now (HotSpot names
   * them {@code C1 CompilerThre…} and {@code C2 CompilerThre…}); a compiler thread that ended since
   * an earlier snapshot takes its ticks with it, so a difference can undercount, never overcount.
   */
  static long compilerTicks(long pid) {
    long total = 0;
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        String comm = Files.readString(task.resolve("comm")).strip();
        if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) {
          String[] fields = statFields(task.resolve("stat"));
          if (fields != null) {
            total += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      return total;
    }
    return total;
  }

  private static String[] statFields(long pid) {
    return statFields(Path.of("/proc", Long.toString(pid), "stat"));
  }

  private static String[] statFields(Path path) {
    try {
      String stat = Files.readString(path);
      int close = stat.lastIndexOf(')');
      return stat.substring(close + 2).trim().split("\\s+");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The machine's CPU counters from the first line of {@code /proc/stat}. */
  record MachineCpu(long busy, long steal, long total) {
    /** Busy share of all cores between {@code earlier} and this snapshot (0..1). */
    double busySince(MachineCpu earlier) {
      long all = total - earlier.total;
      return all <= 0 ? 0 : (double) (busy - earlier.busy) / all;
    }

    /** Share of the time the hypervisor ran someone else on our cores (0..1). */
    double stealSince(MachineCpu earlier) {
      long all = total - earlier.total;
      return all <= 0 ? 0 : (double) (steal - earlier.steal) / all;
    }
  }

  static MachineCpu machineCpu() {
    try {
      String first = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = first.trim().split("\\s+");
      long total = 0;
      long idle = 0;
      long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
      // user nice system idle iowait irq softirq steal (guest time is already in user)
      for (int i = 1; i <= Math.min(8, f.length - 1); i++) {
        long v = Long.parseLong(f[i]);
        total += v;
        if (i == 4 || i == 5) {
          idle += v;
        }
      }
      return new MachineCpu(total - idle, steal, total);
    } catch (IOException | RuntimeException e) {
      return new MachineCpu(0, 0, 0);
    }
  }

  /** The first three fields of {@code /proc/loadavg}, e.g. {@code 0.52 0.80 1.10}. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /** The CPU model name from {@code /proc/cpuinfo}. */
  static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
    return "unknown";
  }

  /** {@code MemTotal} in MiB. */
  static long memTotalMib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
