package io.refundbroker.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TimeOrderedIdsTest {

  /** RFC 9562, appendix A.6: the example version-7 id of 2022-02-22T19:22:22Z. */
  @Test
  void matchesTheRfcExample() {
    long millis = 0x017F22E279B0L;
    byte[] random = {
      (byte) 0x0C, (byte) 0xC3, (byte) 0x18, (byte) 0xC4, (byte) 0xDC,
      (byte) 0x0C, (byte) 0x0C, (byte) 0x07, (byte) 0x39, (byte) 0x8F
    };

    UUID id = TimeOrderedIds.of(millis, random);

    assertThat(id).hasToString("017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
    assertThat(Instant.ofEpochMilli(millis)).isEqualTo(Instant.parse("2022-02-22T19:22:22Z"));
  }

  @Test
  void isAVersion7IdOfTheIetfVariantCarryingItsMillisecond() {
    Instant at = Instant.parse("2026-11-30T18:15:42.123456Z");

    UUID id = TimeOrderedIds.at(at);

    assertThat(id.version()).isEqualTo(7);
    assertThat(id.variant()).isEqualTo(2);
    assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(at.toEpochMilli());
  }

  /** PostgreSQL compares uuids as unsigned bytes: so must the test. */
  @Test
  void idsOfLaterMillisecondsSortAfterEarlierOnesWhateverTheirRandomBits() {
    Random seeded = new Random(20261130);
    Instant at = Instant.parse("2026-11-30T00:00:00Z");
    UUID previous = null;
    for (int i = 0; i < 2_000; i++) {
      byte[] random = new byte[10];
      seeded.nextBytes(random);
      UUID id = TimeOrderedIds.of(at.toEpochMilli() + i, random);
      if (previous != null) {
        assertThat(unsignedCompare(previous, id)).as("id %d after id %d", i, i - 1).isNegative();
      }
      previous = id;
    }
  }

  @Test
  void idsOfTheSameMillisecondDifferInTheirRandomBits() {
    Instant at = Instant.parse("2026-11-30T00:00:00Z");
    Set<UUID> ids = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      ids.add(TimeOrderedIds.at(at));
    }
    assertThat(ids).hasSize(10_000);
  }

  @Test
  void refusesATimeOutsideTheFortyEightBits() {
    assertThatThrownBy(() -> TimeOrderedIds.of(-1, new byte[10]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TimeOrderedIds.of(1L << 48, new byte[10]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static int unsignedCompare(UUID a, UUID b) {
    int high = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
    return high != 0
        ? high
        : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
  }
}
