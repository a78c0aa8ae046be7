package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** A checkpoint's key version bounds, its export form's algorithm, and its equality. */
class CheckpointTest {
  private static final Instant AT = Instant.parse("2026-11-30T12:00:00Z");

  @Test
  void aKeyVersionHasOneTo200Characters() {
    assertThatCode(() -> checkpoint("v".repeat(200))).doesNotThrowAnyException();
    assertThatCode(() -> checkpoint("1")).doesNotThrowAnyException();
    assertThatCode(() -> checkpoint(null)).doesNotThrowAnyException();
    assertThatThrownBy(() -> checkpoint("v".repeat(201)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> checkpoint(" ")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anExportLineOfAnotherAlgorithmIsRefusedAndOneWithoutTheMemberIsEd25519() {
    JsonObject json =
        new JsonObject()
            .put("seq", 5)
            .put("headHash", "ab")
            .put("signedAt", AT.toString())
            .put("keyId", "local:test");
    assertThat(Checkpoint.fromJson(json).seq()).isEqualTo(5);
    assertThat(Checkpoint.fromJson(json.copy().put("algorithm", "Ed25519")).seq()).isEqualTo(5);
    assertThatThrownBy(() -> Checkpoint.fromJson(json.copy().put("algorithm", "RSA")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("algorithm");
  }

  @Test
  void checkpointsAreEqualOnlyWhenEveryMemberIs() {
    Checkpoint one = checkpoint("1");
    assertThat(one).isEqualTo(checkpoint("1")).hasSameHashCodeAs(checkpoint("1"));
    assertThat(one).isNotEqualTo(checkpoint("2"));
    assertThat(one).isNotEqualTo(new Checkpoint(6, "ab", AT, "local:test", "1", new byte[] {1}));
    assertThat(one).isNotEqualTo(new Checkpoint(5, "ab", AT, "local:test", "1", new byte[] {2}));
    assertThat(one).isNotEqualTo("a checkpoint");
  }

  private static Checkpoint checkpoint(String keyVersion) {
    return new Checkpoint(5, "ab", AT, "local:test", keyVersion, new byte[] {1});
  }
}
