package io.refundbroker.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads typed values from an environment map and collects every problem, so that start-up can
 * report all bad variables at once instead of one per restart.
 */
final class Env {
  private static final Pattern DURATION = Pattern.compile("^(\\d+)(ms|s|m|h|d)?$");

  private final Map<String, String> values;
  private final List<String> problems = new ArrayList<>();

  Env(Map<String, String> values) {
    this.values = values;
  }

  Optional<String> optional(String name) {
    String value = values.get(name);
    if (value == null || value.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(value.trim());
  }

  String string(String name, String defaultValue) {
    return optional(name).orElse(defaultValue);
  }

  int integer(String name, int defaultValue, int min, int max) {
    return optional(name)
        .map(
            raw ->
                parse(
                    name,
                    raw,
                    defaultValue,
                    s -> {
                      int value = Integer.parseInt(s);
                      if (value < min || value > max) {
                        throw new IllegalArgumentException(
                            "must be between " + min + " and " + max);
                      }
                      return value;
                    },
                    "an integer"))
        .orElse(defaultValue);
  }

  boolean bool(String name, boolean defaultValue) {
    return optional(name)
        .map(
            raw ->
                parse(
                    name,
                    raw,
                    defaultValue,
                    s -> {
                      return switch (s.toLowerCase(Locale.ROOT)) {
                        case "true", "1", "yes", "on" -> true;
                        case "false", "0", "no", "off" -> false;
                        default -> throw new IllegalArgumentException("not a boolean");
                      };
                    },
                    "true or false"))
        .orElse(defaultValue);
  }

  /**
   * Durations are written as {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h} or {@code 365d}.
   */
  Duration duration(String name, Duration defaultValue, Duration min, Duration max) {
    return optional(name)
        .map(
            raw ->
                parse(
                    name,
                    raw,
                    defaultValue,
                    s -> {
                      Duration value = parseDuration(s);
                      if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
                        throw new IllegalArgumentException(
                            "must be between " + format(min) + " and " + format(max));
                      }
                      return value;
                    },
                    "a duration such as 500ms, 30s, 5m or 1h"))
        .orElse(defaultValue);
  }

  <E extends Enum<E>> E enumeration(String name, E defaultValue, Class<E> type) {
    return optional(name)
        .map(
            raw ->
                parse(
                    name,
                    raw,
                    defaultValue,
                    s -> Enum.valueOf(type, s.toUpperCase(Locale.ROOT)),
                    "one of " + lowerNames(type)))
        .orElse(defaultValue);
  }

  Path path(String name, Path defaultValue) {
    return optional(name)
        .map(raw -> parse(name, raw, defaultValue, Path::of, "a file system path"))
        .orElse(defaultValue);
  }

  /** An absolute http(s) URL without query or fragment; a trailing slash is dropped. */
  URI httpUrl(String name, String defaultValue) {
    String raw = string(name, defaultValue);
    try {
      URI uri = new URI(raw.endsWith("/") ? raw.substring(0, raw.length() - 1) : raw);
      if (uri.getScheme() == null
          || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
          || uri.getHost() == null
          || uri.getQuery() != null
          || uri.getFragment() != null) {
        throw new URISyntaxException(raw, "not an absolute http(s) URL");
      }
      return uri;
    } catch (URISyntaxException e) {
      problem(name, "must be an absolute http(s) URL such as https://apitest.vipps.no");
      return URI.create(defaultValue);
    }
  }

  void problem(String name, String message) {
    problems.add(name + " " + message);
  }

  List<String> problems() {
    return List.copyOf(problems);
  }

  private <T> T parse(
      String name, String raw, T fallback, Function<String, T> parser, String expected) {
    try {
      return parser.apply(raw);
    } catch (RuntimeException e) {
      String why = e instanceof NumberFormatException ? null : e.getMessage();
      boolean specific = why != null && why.startsWith("must ");
      problem(name, (specific ? why : "must be " + expected) + " (got '" + printable(raw) + "')");
      return fallback;
    }
  }

  static Duration parseDuration(String raw) {
    Matcher m = DURATION.matcher(raw.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("not a duration");
    }
    long amount = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(amount);
      case "m" -> Duration.ofMinutes(amount);
      case "h" -> Duration.ofHours(amount);
      case "d" -> Duration.ofDays(amount);
      default -> Duration.ofSeconds(amount);
    };
  }

  static String format(Duration d) {
    if (d.toMillis() % 1000 != 0) {
      return d.toMillis() + "ms";
    }
    long s = d.toSeconds();
    if (s % 86400 == 0 && s > 0) {
      return s / 86400 + "d";
    }
    if (s % 3600 == 0 && s > 0) {
      return s / 3600 + "h";
    }
    if (s % 60 == 0 && s > 0) {
      return s / 60 + "m";
    }
    return s + "s";
  }

  private static String printable(String raw) {
    String clipped = raw.length() > 40 ? raw.substring(0, 40) + "…" : raw;
    return clipped.replaceAll("\\p{Cntrl}", "?");
  }

  private static <E extends Enum<E>> String lowerNames(Class<E> type) {
    List<String> names = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      names.add(e.name().toLowerCase(Locale.ROOT));
    }
    return String.join(", ", names);
  }
}
