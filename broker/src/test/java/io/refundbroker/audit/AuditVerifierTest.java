package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.audit.Tampering.Kind;
import io.refundbroker.audit.Tampering.Tampered;
import io.refundbroker.audit.TrailGenerator.Trail;
import io.refundbroker.audit.signing.Ed25519KeyPair;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pure verifier against a 10,000-event trail: every kind of tampering, many times at random
 * positions (seeded; the seed is in every assertion message), and no false alarm when untouched.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditVerifierTest {
  private static final int EVENTS = 10_000;
  private static final int ITERATIONS = Integer.getInteger("audit.iterations", 25);
  private static final long SEED = Long.getLong("audit.seed", System.nanoTime());

  private final Ed25519KeyPair key = Ed25519KeyPair.generate();
  private final Ed25519KeyPair attacker = Ed25519KeyPair.generate();
  private TrailGenerator generator;
  private Trail trail;

  @BeforeAll
  void generate() {
    generator = new TrailGenerator(SEED);
    trail =
        generator.generate(
            EVENTS,
            0,
            ChainedEvent.GENESIS_HASH,
            Instant.parse("2025-01-01T00:00:00Z"),
            key,
            "local:test",
            500);
  }

  @Test
  void untouchedTrailIsValid() {
    AuditVerifier.Result result = verify(trail.events(), trail.checkpoints());
    assertThat(result.valid()).as("seed %d: %s", SEED, result).isTrue();
    assertThat(result.checkedEvents()).isEqualTo(EVENTS);
    assertThat(result.headSeq()).isEqualTo(EVENTS);
    assertThat(result.headHash()).isEqualTo(trail.head().hash());
    assertThat(result.checkpointsVerified()).isEqualTo(trail.checkpoints().size()).isPositive();
    assertThat(result.lastValidCheckpointSeq())
        .isEqualTo(Tampering.lastCheckpointSeq(trail.checkpoints()));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Kind.class)
  void everyTamperingIsDetectedAndNamed(Kind kind) {
    Random random = new Random(SEED ^ kind.ordinal());
    int detected = 0;
    for (int i = 0; i < ITERATIONS; i++) {
      Tampered tampered = Tampering.apply(kind, trail, generator, random, attacker);
      AuditVerifier.Result result = verify(tampered.events(), tampered.checkpoints());
      String context = "seed " + SEED + ", " + tampered + ": " + result;
      if (tampered.expectValid()) {
        assertThat(result.valid()).as(context).isTrue();
        continue;
      }
      detected++;
      assertThat(result.valid()).as(context).isFalse();
      assertThat(result.firstInvalidSeq())
          .as(context)
          .isEqualTo(tampered.expectedFirstInvalidSeq());
      assertThat(result.firstInvalidSeq())
          .as(context)
          .isLessThanOrEqualTo(tampered.actualFirstBadSeq());
      assertThat(result.reason()).as(context).isNotBlank();
    }
    if (kind != Kind.NONE) {
      assertThat(detected).as("seed %d: detectable cases of %s", SEED, kind).isPositive();
    }
  }

  @Test
  void rewriteIsNamedAtTheFirstSeqNotCoveredByAValidCheckpoint() {
    Checkpoint second = trail.checkpoints().get(1);
    long k = second.seq() - 3;
    Tampered rewritten = Tampering.rewrite(trail, k, new Random(SEED));
    AuditVerifier.Result result = verify(rewritten.events(), rewritten.checkpoints());
    assertThat(result.firstInvalidSeq()).isEqualTo(trail.checkpoints().get(0).seq() + 1);
    assertThat(result.reason()).contains("checkpoint at seq " + second.seq()).contains("rewritten");
  }

  @ParameterizedTest(name = "{0} inserted")
  @ValueSource(ints = {1, 2, 3, 40})
  void eventsInsertedRightAtACheckpointAreNamed(int count) {
    long k = trail.checkpoints().get(2).seq();
    List<ChainedEvent> events = new java.util.ArrayList<>(trail.events().subList(0, (int) k - 1));
    String previous = trail.events().get((int) k - 2).hash();
    for (int i = 0; i < count; i++) {
      ChainedEvent forged =
          ChainedEvent.chain(
              k + i,
              trail.events().get((int) k - 2).occurredAt(),
              Actor.system("insider"),
              null,
              AuditEvent.success(
                  "refund.succeeded", "refund", "r-forged-" + i, null, new JsonObject()),
              previous);
      events.add(forged);
      previous = forged.hash();
    }
    trail
        .events()
        .subList((int) k - 1, EVENTS)
        .forEach(e -> events.add(Tampering.withSeq(e, e.seq() + count)));
    AuditVerifier.Result result = verify(events, trail.checkpoints());
    assertThat(result.firstInvalidSeq()).as(result.toString()).isEqualTo(k);
    assertThat(result.reason()).contains("inserted");
  }

  @Test
  void anEventChangedAndRehashedAtACheckpointIsNamedItself() {
    long k = trail.checkpoints().get(3).seq();
    List<ChainedEvent> events = new java.util.ArrayList<>(trail.events());
    ChainedEvent original = events.get((int) k - 1);
    ChainedEvent changed =
        new ChainedEvent(
            original.seq(),
            original.occurredAt(),
            original.actor(),
            original.action(),
            original.subjectType(),
            original.subjectId(),
            original.chainId(),
            "SUCCESS".equals(original.outcome()) ? "FAILED" : "SUCCESS",
            original.requestId(),
            original.details(),
            original.prevHash(),
            null);
    events.set((int) k - 1, changed.withHash(changed.computeHash()));
    AuditVerifier.Result result = verify(events, trail.checkpoints());
    assertThat(result.firstInvalidSeq()).as(result.toString()).isEqualTo(k);
    assertThat(result.reason()).contains("changed and its hash recomputed");
  }

  @Test
  void truncationAfterTheLastCheckpointIsNotDetectable() {
    long lastCheckpoint = Tampering.lastCheckpointSeq(trail.checkpoints());
    List<ChainedEvent> kept = trail.events().subList(0, (int) lastCheckpoint + 1);
    AuditVerifier.Result result = verify(kept, trail.checkpoints());
    assertThat(result.valid()).isTrue();
    assertThat(result.headSeq()).isEqualTo(lastCheckpoint + 1);

    AuditVerifier.Result cut =
        verify(trail.events().subList(0, (int) lastCheckpoint - 1), trail.checkpoints());
    assertThat(cut.valid()).isFalse();
    assertThat(cut.firstInvalidSeq()).isEqualTo(lastCheckpoint);
    assertThat(cut.reason()).contains("refers beyond the head").contains("removed");
  }

  @Test
  void anUnreadableEventIsNamedByItsPosition() {
    AuditVerifier verifier = new AuditVerifier(trail.checkpoints(), List.of(key.publicKey()));
    for (int i = 0; i < 41; i++) {
      verifier.accept(trail.events().get(i));
    }
    verifier.acceptUnreadable("line 42 is not JSON");
    AuditVerifier.Result result = verifier.finish();
    assertThat(result.firstInvalidSeq()).isEqualTo(42);
    assertThat(result.reason()).contains("line 42 is not JSON");
  }

  @Test
  void emptyTrailIsValid() {
    AuditVerifier.Result result = verify(List.of(), List.of());
    assertThat(result.valid()).isTrue();
    assertThat(result.headSeq()).isZero();
    assertThat(result.headHash()).isEqualTo(ChainedEvent.GENESIS_HASH);
  }

  @Test
  void checkpointsSignedWithAnotherKnownKeyAreAccepted() {
    AuditVerifier verifier =
        new AuditVerifier(trail.checkpoints(), List.of(attacker.publicKey(), key.publicKey()));
    trail.events().forEach(verifier::accept);
    assertThat(verifier.finish().valid()).isTrue();
    AuditVerifier wrongKey = new AuditVerifier(trail.checkpoints(), List.of(attacker.publicKey()));
    trail.events().forEach(wrongKey::accept);
    AuditVerifier.Result result = wrongKey.finish();
    assertThat(result.valid()).isFalse();
    assertThat(result.firstInvalidSeq()).isEqualTo(1);
  }

  @Test
  void resultJsonHasTheDocumentedShape() {
    JsonObject valid = verify(trail.events(), trail.checkpoints()).toJson();
    assertThat(valid.fieldNames())
        .contains("valid", "checkedEvents", "headSeq", "headHash")
        .doesNotContain("firstInvalidSeq", "reason");
    Tampered changed =
        Tampering.apply(Kind.CHANGE_FIELD, trail, generator, new Random(SEED), attacker);
    JsonObject invalid = verify(changed.events(), changed.checkpoints()).toJson();
    assertThat(invalid.getBoolean("valid")).isFalse();
    assertThat(invalid.getLong("firstInvalidSeq")).isEqualTo(changed.expectedFirstInvalidSeq());
    assertThat(invalid.getString("reason")).isNotBlank();
  }

  private AuditVerifier.Result verify(List<ChainedEvent> events, List<Checkpoint> checkpoints) {
    AuditVerifier verifier = new AuditVerifier(checkpoints, List.of(key.publicKey()));
    events.forEach(verifier::accept);
    return verifier.finish();
  }
}
