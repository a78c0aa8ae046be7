package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.store.Store;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CredentialAgeTest {
  private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");
  private static final Duration MAX = Duration.ofDays(365);
  private static final Store STORE =
      new Store("s1", "c1", "Store 1", "123456", null, null, null, null, false, NOW, NOW);

  private static CredentialHistory history(Instant... written) {
    List<CredentialVersion> versions =
        java.util.stream.IntStream.range(0, written.length)
            .mapToObj(
                i -> new CredentialVersion(i + 1, written[i], "cl_admin", written[i], null, false))
            .toList();
    return new CredentialHistory(KeyHolder.salesUnit("123456"), written.length, versions);
  }

  @Test
  void theAgeIsTheCurrentVersionsAndStaleOnlyPastTheMaximum() {
    Instant old = NOW.minus(Duration.ofDays(400));
    CredentialAge justRotated =
        CredentialAge.of(STORE, history(old, NOW.minusSeconds(5)), NOW, MAX);
    assertThat(justRotated.current().version()).isEqualTo(2);
    assertThat(justRotated.age()).isEqualTo(Duration.ofSeconds(5));
    assertThat(justRotated.stale()).isFalse();

    assertThat(CredentialAge.of(STORE, history(NOW.minus(MAX)), NOW, MAX).stale())
        .as("exactly the maximum is not past it")
        .isFalse();
    CredentialAge stale = CredentialAge.of(STORE, history(old), NOW, MAX);
    assertThat(stale.stale()).isTrue();
    assertThat(stale.toJson().getLong("ageSeconds")).isEqualTo(Duration.ofDays(400).toSeconds());
  }

  @Test
  void noKeysMeansVersionZeroWithoutAnAgeAndAClockBehindCountsAsNew() {
    CredentialAge none =
        CredentialAge.of(STORE, CredentialHistory.empty(KeyHolder.salesUnit("123456")), NOW, MAX);
    assertThat(none.toJson().getInteger("currentVersion")).isZero();
    assertThat(none.toJson().containsKey("ageSeconds")).isFalse();
    assertThat(none.stale()).isFalse();
    assertThat(CredentialAge.of(STORE, history(NOW.plusSeconds(30)), NOW, MAX).age())
        .isEqualTo(Duration.ZERO);
  }
}
