package io.refundbroker.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition with a deadline, checking it repeatedly (the project's alternative to
 * sleeping a guessed amount of time).
 */
public final class Poll {
  private static final long PAUSE_NANOS = Duration.ofMillis(20).toNanos();

  private Poll() {}

  /** Waits until {@code condition} holds; fails with {@code what} after {@code within}. */
  public static void until(String what, Duration within, BooleanSupplier condition) {
    Instant deadline = Instant.now().plus(within);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("timed out after " + within + " waiting for: " + what);
      }
      pause();
    }
  }

  /** Waits until {@code value} yields a non-null result and returns it. */
  public static <T> T value(String what, Duration within, Supplier<T> value) {
    Instant deadline = Instant.now().plus(within);
    T result;
    while ((result = value.get()) == null) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("timed out after " + within + " waiting for: " + what);
      }
      pause();
    }
    return result;
  }

  /** Yields the test thread briefly between two checks of a polled condition. */
  static void pause() {
    LockSupport.parkNanos(PAUSE_NANOS);
  }
}
