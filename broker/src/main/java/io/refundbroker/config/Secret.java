package io.refundbroker.config;

import java.util.Objects;

/**
 * A secret value (token, password, key). {@link #toString()} never shows it, so a secret that ends
 * up in a log line, an exception message or a record's {@code toString()} stays hidden; call {@link
 * #reveal()} only at the point of use.
 */
public final class Secret {
  private final String value;

  private Secret(String value) {
    this.value = Objects.requireNonNull(value, "value");
  }

  public static Secret of(String value) {
    return new Secret(value);
  }

  public String reveal() {
    return value;
  }

  public int length() {
    return value.length();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Secret other && other.value.equals(value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return "[redacted]";
  }
}
