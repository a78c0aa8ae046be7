package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refundbroker.audit.TrailGenerator.Trail;
import io.refundbroker.audit.signing.CheckpointKey;
import io.refundbroker.audit.signing.Ed25519KeyPair;
import io.refundbroker.audit.signing.Ed25519PublicKey;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The verifier checks each checkpoint with the key version it names: a trail whose signing key was
 * rotated halfway verifies with both versions; a version that was not given makes it unverifiable,
 * named as such and not as tampering; a relabelled or forged checkpoint is still tampering.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CheckpointKeyVersionsTest {
  private static final String TRANSIT = "vault-transit:refund-broker-audit";
  private static final long SEED = 11;

  private final Ed25519KeyPair v1 = Ed25519KeyPair.generate();
  private final Ed25519KeyPair v2 = Ed25519KeyPair.generate();
  private final Ed25519KeyPair attacker = Ed25519KeyPair.generate();
  private Trail trail;
  private List<Checkpoint> rotated;
  private long rotationSeq;

  /** 400 events, a checkpoint about every 20; versions 1 then 2 (rotated at the middle). */
  @BeforeAll
  void generate() {
    trail =
        new TrailGenerator(SEED, AuditMac.random())
            .generate(
                400,
                0,
                ChainedEvent.GENESIS_HASH,
                Instant.parse("2026-01-01T00:00:00Z"),
                v1,
                "unused",
                20);
    rotationSeq = trail.checkpoints().get(trail.checkpoints().size() / 2).seq();
    List<Checkpoint> signed = new ArrayList<>();
    for (Checkpoint c : trail.checkpoints()) {
      boolean before = c.seq() < rotationSeq;
      signed.add(sign(c, TRANSIT, before ? "1" : "2", before ? v1 : v2));
    }
    rotated = List.copyOf(signed);
  }

  private static Checkpoint sign(
      Checkpoint c, String keyId, String version, Ed25519KeyPair signer) {
    Checkpoint unsigned = new Checkpoint(c.seq(), c.headHash(), c.signedAt(), keyId, version, null);
    return unsigned.withSignature(signer.sign(unsigned.signedMessage()));
  }

  private AuditVerifier.Result verify(List<Checkpoint> checkpoints, CheckpointKeys keys) {
    AuditVerifier verifier = new AuditVerifier(checkpoints, keys);
    trail.events().forEach(verifier::accept);
    return verifier.finish();
  }

  private static CheckpointKeys named(Object... idVersionKey) {
    List<CheckpointKey> keys = new ArrayList<>();
    for (int i = 0; i < idVersionKey.length; i += 3) {
      keys.add(
          new CheckpointKey(
              (String) idVersionKey[i],
              (String) idVersionKey[i + 1],
              ((Ed25519KeyPair) idVersionKey[i + 2]).publicKey()));
    }
    return CheckpointKeys.of(keys);
  }

  private long firstOfVersion(String version) {
    return rotated.stream()
        .filter(c -> version.equals(c.keyVersion()))
        .findFirst()
        .orElseThrow()
        .seq();
  }

  @Test
  void aRotatedTrailVerifiesWithEveryVersionNamedOrUnnamed() {
    AuditVerifier.Result named = verify(rotated, named(TRANSIT, "1", v1, TRANSIT, "2", v2));
    assertThat(named.valid()).as("%s", named).isTrue();
    assertThat(named.checkpointsVerified()).isEqualTo(rotated.size());
    assertThat(named.uncheckedCheckpoints()).isZero();

    AuditVerifier.Result unnamed =
        verify(rotated, CheckpointKeys.unnamed(List.of(v2.publicKey(), v1.publicKey())));
    assertThat(unnamed.valid()).as("%s", unnamed).isTrue();
    assertThat(unnamed.checkpointsVerified()).isEqualTo(rotated.size());
  }

  @Test
  void onlyTheNewestKeyNamesTheFirstCheckpointItCannotCheckNotTampering() {
    long firstOld = firstOfVersion("1");
    long olderCount = rotated.stream().filter(c -> "1".equals(c.keyVersion())).count();
    for (CheckpointKeys newestOnly :
        List.of(named(TRANSIT, "2", v2), CheckpointKeys.unnamed(List.of(v2.publicKey())))) {
      AuditVerifier.Result result = verify(rotated, newestOnly);
      assertThat(result.valid()).isFalse();
      assertThat(result.unverifiable()).isTrue();
      assertThat(result.firstInvalidSeq()).as("no event is called bad").isNull();
      assertThat(result.firstUnchecked().seq()).isEqualTo(firstOld);
      assertThat(result.firstUnchecked().keyVersion()).isEqualTo("1");
      assertThat(result.uncheckedCheckpoints()).isEqualTo((int) olderCount);
      assertThat(result.checkpointsVerified()).isEqualTo(rotated.size() - (int) olderCount);
      assertThat(result.reason())
          .contains("the checkpoint at seq " + firstOld)
          .contains("is signed by key version 1, which was not given")
          .contains("not evidence of tampering");
      JsonObject json = result.toJson();
      assertThat(json.containsKey("firstInvalidSeq")).isFalse();
      assertThat(json.getJsonObject("firstUncheckedCheckpoint").getString("keyVersion"))
          .isEqualTo("1");
      assertThat(AuditCommand.describe(result)).startsWith("UNVERIFIED");
    }
  }

  @Test
  void realTamperingIsStillNamedWhenSomeKeyIsMissing() {
    // an event after the rotation changed: the v2 checkpoints see it, the missing v1 key does not
    // hide it
    List<ChainedEvent> events = new ArrayList<>(trail.events());
    int changed = (int) rotationSeq + 5;
    ChainedEvent original = events.get(changed - 1);
    events.set(
        changed - 1,
        new ChainedEvent(
            original.seq(),
            new AuditEntry(
                original.entry().eventId(),
                original.occurredAt(),
                original.actor(),
                original.action(),
                original.subjectType(),
                original.subjectId(),
                original.chainId(),
                "TAMPERED",
                original.requestId(),
                original.details(),
                original.entry().mac()),
            original.prevHash(),
            original.hash()));
    AuditVerifier verifier = new AuditVerifier(rotated, named(TRANSIT, "2", v2));
    events.forEach(verifier::accept);
    AuditVerifier.Result result = verifier.finish();
    assertThat(result.valid()).isFalse();
    assertThat(result.unverifiable()).isFalse();
    assertThat(result.firstInvalidSeq()).isEqualTo(changed);
  }

  @Test
  void aRelabelledOrForgedCheckpointIsTampering() {
    CheckpointKeys both = named(TRANSIT, "1", v1, TRANSIT, "2", v2);
    int index = rotated.size() - 2;
    Checkpoint genuine = rotated.get(index);

    List<Checkpoint> relabelled = new ArrayList<>(rotated);
    relabelled.set(index, relabel(genuine, "1"));
    AuditVerifier.Result result = verify(relabelled, both);
    assertThat(result.unverifiable()).isFalse();
    assertThat(result.firstInvalidSeq()).isEqualTo(rotated.get(index - 1).seq() + 1);
    assertThat(result.reason()).contains("does not verify with key version 1 of " + TRANSIT);

    List<Checkpoint> forged = new ArrayList<>(rotated);
    forged.set(index, sign(genuine, TRANSIT, "2", attacker));
    AuditVerifier.Result forgery = verify(forged, both);
    assertThat(forgery.firstInvalidSeq()).isEqualTo(rotated.get(index - 1).seq() + 1);
    assertThat(forgery.reason()).contains("does not verify with key version 2");
  }

  @Test
  void aForgedCheckpointBeforeTheFirstGenuineOneOfItsVersionIsFoundOutLater() {
    // unnamed keys: version 2 is only recognised at its first genuine checkpoint, so a forgery
    // labelled 2 that comes earlier is unchecked at first, and tampering once 2 is known
    int index = 1;
    List<Checkpoint> forged = new ArrayList<>(rotated);
    forged.set(index, sign(rotated.get(index), TRANSIT, "2", attacker));
    AuditVerifier.Result result =
        verify(forged, CheckpointKeys.unnamed(List.of(v1.publicKey(), v2.publicKey())));
    assertThat(result.unverifiable()).as("%s", result).isFalse();
    assertThat(result.firstInvalidSeq()).isEqualTo(rotated.get(index - 1).seq() + 1);
    assertThat(result.uncheckedCheckpoints()).isZero();
  }

  @Test
  void aKeyFilesVersionIsItsFingerprintSoAPemIsMatchedExactly() {
    List<Checkpoint> local = new ArrayList<>();
    for (Checkpoint c : trail.checkpoints()) {
      Ed25519KeyPair key = c.seq() < rotationSeq ? v1 : v2;
      local.add(sign(c, "local", key.publicKey().fingerprint(), key));
    }
    CheckpointKeys pems = CheckpointKeys.unnamed(List.of(v1.publicKey(), v2.publicKey()));
    assertThat(verify(local, pems).valid()).isTrue();

    // a checkpoint naming v1's fingerprint but signed by v2 is relabelled: tampering
    int index = local.size() - 1;
    List<Checkpoint> relabelled = new ArrayList<>(local);
    relabelled.set(index, relabel(local.get(index), v1.publicKey().fingerprint()));
    AuditVerifier.Result result = verify(relabelled, pems);
    assertThat(result.unverifiable()).isFalse();
    assertThat(result.firstInvalidSeq()).isEqualTo(local.get(index - 1).seq() + 1);

    AuditVerifier.Result newest = verify(local, CheckpointKeys.unnamed(List.of(v2.publicKey())));
    assertThat(newest.unverifiable()).isTrue();
    assertThat(newest.firstUnchecked().keyVersion()).isEqualTo(v1.publicKey().fingerprint());
  }

  @Test
  void checkpointsWithoutAVersionVerifyWithAnyKeyGiven() {
    // checkpoints made before versions were recorded, then versioned ones after an upgrade
    List<Checkpoint> mixed = new ArrayList<>();
    for (Checkpoint c : rotated) {
      mixed.add(c.seq() < rotationSeq ? sign(c, "local:" + "ab".repeat(16), null, v1) : c);
    }
    assertThat(verify(mixed, named(TRANSIT, "1", v1, TRANSIT, "2", v2)).valid()).isTrue();
    AuditVerifier.Result wrong = verify(mixed, named(TRANSIT, "2", v2));
    assertThat(wrong.valid()).isFalse();
    assertThat(wrong.firstInvalidSeq()).as("an unversioned one that no key verifies").isEqualTo(1);
  }

  @Test
  void aKeySetIsReadBackAndAFingerprintThatDoesNotMatchIsRefused() {
    JsonObject entry =
        new JsonObject()
            .put("keyId", TRANSIT)
            .put("keyVersion", "2")
            .put("algorithm", "Ed25519")
            .put("fingerprint", v2.publicKey().fingerprint())
            .put("publicKeyPem", v2.publicKey().pem());
    List<CheckpointKey> keys =
        CheckpointKeys.readKeySet(new JsonObject().put("keys", new JsonArray().add(entry)));
    assertThat(keys).singleElement().satisfies(k -> assertThat(k.names(TRANSIT, "2")).isTrue());
    assertThat(CheckpointKeys.readKeySet(new JsonArray().add(entry))).hasSize(1);
    UnaryOperator<JsonObject> wrongFingerprint =
        e -> e.copy().put("fingerprint", v1.publicKey().fingerprint());
    assertThatThrownBy(
            () -> CheckpointKeys.readKeySet(new JsonArray().add(wrongFingerprint.apply(entry))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fingerprint does not match");
    assertThatThrownBy(
            () -> CheckpointKeys.readKeySet(new JsonArray().add(entry.copy().remove("keyVersion"))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aCheckpointCarriesItsKeyVersionThroughItsExportForm() {
    Checkpoint versioned = rotated.get(0);
    assertThat(Checkpoint.fromJson(versioned.toJson())).isEqualTo(versioned);
    Checkpoint legacy = trail.checkpoints().get(0);
    assertThat(legacy.toJson().getValue("keyVersion")).isNull();
    assertThat(Checkpoint.fromJson(legacy.toJson())).isEqualTo(legacy);
    assertThat(Ed25519PublicKey.allFromPem(v1.publicKey().pem() + v2.publicKey().pem()))
        .containsExactly(v1.publicKey(), v2.publicKey());
  }

  private static Checkpoint relabel(Checkpoint c, String version) {
    return new Checkpoint(c.seq(), c.headHash(), c.signedAt(), c.keyId(), version, c.signature());
  }
}
