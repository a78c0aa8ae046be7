package io.refundbroker.sandbox;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link VippsSandbox} starts.
 *
 * @param host interface to listen on
 * @param port port ({@code 0} = any free port)
 * @param clock the sandbox's idea of "now": token expiry, the 365-day refund window, the per-minute
 *     rate limit and every timestamp it hands out
 * @param tokenLifetime lifetime of the access tokens it issues (Vipps test: 1 hour)
 * @param refundCallsPerMinute refund calls allowed per payment (reference + MSN) per minute (Vipps:
 *     5); {@code 0} = no limit
 */
public record SandboxOptions(
    String host, int port, Clock clock, Duration tokenLifetime, int refundCallsPerMinute) {

  public SandboxOptions {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(tokenLifetime, "tokenLifetime");
    if (tokenLifetime.getSeconds() < 1) {
      throw new IllegalArgumentException("tokenLifetime must be at least one second");
    }
    if (refundCallsPerMinute < 0) {
      throw new IllegalArgumentException("refundCallsPerMinute must not be negative");
    }
  }

  /** Loopback, any free port, the system clock, 1-hour tokens, 5 refund calls per minute. */
  public static SandboxOptions defaults() {
    return new SandboxOptions("127.0.0.1", 0, Clock.systemUTC(), Duration.ofHours(1), 5);
  }

  public SandboxOptions withHost(String newHost) {
    return new SandboxOptions(newHost, port, clock, tokenLifetime, refundCallsPerMinute);
  }

  public SandboxOptions withPort(int newPort) {
    return new SandboxOptions(host, newPort, clock, tokenLifetime, refundCallsPerMinute);
  }

  public SandboxOptions withClock(Clock newClock) {
    return new SandboxOptions(host, port, newClock, tokenLifetime, refundCallsPerMinute);
  }

  public SandboxOptions withTokenLifetime(Duration lifetime) {
    return new SandboxOptions(host, port, clock, lifetime, refundCallsPerMinute);
  }

  public SandboxOptions withRefundCallsPerMinute(int limit) {
    return new SandboxOptions(host, port, clock, tokenLifetime, limit);
  }
}
