package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.audit.Tampering.Kind;
import io.refundbroker.audit.Tampering.Tampered;
import io.refundbroker.audit.TrailGenerator.Trail;
import io.refundbroker.audit.signing.Ed25519KeyPair;
import io.refundbroker.caller.Actor;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
  private final AuditMac mac = AuditMac.random();
  private TrailGenerator generator;
  private Trail trail;

  @BeforeAll
  void generate() {
    generator = new TrailGenerator(SEED, mac);
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

  @Test
  void checkpointsMayArriveInAnyOrder() {
    List<Checkpoint> shuffled = new ArrayList<>(trail.checkpoints());
    java.util.Collections.shuffle(shuffled, new Random(SEED));
    java.util.Collections.reverse(shuffled.subList(0, shuffled.size() / 2));
    AuditVerifier verifier = new AuditVerifier(shuffled, List.of(key.publicKey()));
    trail.events().forEach(verifier::accept);
    assertThat(verifier.failed()).as("seed %d", SEED).isFalse();
    AuditVerifier.Result result = verifier.finish();
    assertThat(result.valid()).as("seed %d: %s", SEED, result).isTrue();
    assertThat(result.checkpointsVerified()).isEqualTo(trail.checkpoints().size());
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
    Tampered rewritten = Tampering.rewrite(trail, k, new Random(SEED), mac);
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
              AuditEntry.create(
                  trail.events().get((int) k - 2).occurredAt(),
                  Actor.system("insider"),
                  null,
                  AuditEvent.success(
                      "refund.succeeded", "refund", "r-forged-" + i, null, new JsonObject()),
                  mac),
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
    AuditEntry entry = original.entry();
    ChainedEvent changed =
        new ChainedEvent(
            original.seq(),
            new AuditEntry(
                entry.eventId(),
                entry.occurredAt(),
                entry.actor(),
                entry.action(),
                entry.subjectType(),
                entry.subjectId(),
                entry.chainId(),
                "SUCCESS".equals(entry.outcome()) ? "FAILED" : "SUCCESS",
                entry.requestId(),
                entry.details(),
                entry.mac()),
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
        .doesNotContain("firstInvalidSeq", "reason", "acknowledgedForgeries");
    assertThat(valid.getLong("unsignedEvents"))
        .isEqualTo(EVENTS - Tampering.lastCheckpointSeq(trail.checkpoints()));
    Tampered changed =
        Tampering.apply(Kind.CHANGE_FIELD, trail, generator, new Random(SEED), attacker);
    JsonObject invalid = verify(changed.events(), changed.checkpoints()).toJson();
    assertThat(invalid.getBoolean("valid")).isFalse();
    assertThat(invalid.getLong("firstInvalidSeq")).isEqualTo(changed.expectedFirstInvalidSeq());
    assertThat(invalid.getString("reason")).isNotBlank();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Kind.class)
  void onlineEveryTamperingByAnInsiderWithTheMacKeyIsNamedAsOffline(Kind kind) {
    Random random = new Random(SEED ^ (kind.ordinal() + 100));
    for (int i = 0; i < 2; i++) {
      Tampered tampered = Tampering.apply(kind, trail, generator, random, attacker);
      AuditVerifier.Result result =
          verifyOnline(tampered.events(), tampered.checkpoints(), Map.of());
      String context = "seed " + SEED + ", " + tampered + ": " + result;
      assertThat(result.valid()).as(context).isEqualTo(tampered.expectValid());
      if (!tampered.expectValid()) {
        assertThat(result.firstInvalidSeq())
            .as(context)
            .isEqualTo(tampered.expectedFirstInvalidSeq());
      }
    }
  }

  @Test
  void untouchedTrailIsValidOnlineAndEveryMacChecks() {
    AuditVerifier.Result result = verifyOnline(trail.events(), trail.checkpoints(), Map.of());
    assertThat(result.valid()).as("seed %d: %s", SEED, result).isTrue();
    assertThat(result.acknowledgedForgeries()).isEmpty();
    AuditVerifier other =
        new AuditVerifier(trail.checkpoints(), List.of(key.publicKey()))
            .withMac(AuditMac.random(), Map.of());
    trail.events().forEach(other::accept);
    AuditVerifier.Result wrongKey = other.finish();
    assertThat(wrongKey.firstInvalidSeq()).isEqualTo(1);
    assertThat(wrongKey.reason()).contains("event 1 carries no valid MAC");
  }

  @Test
  void anEventInsertedWithoutTheMacKeyIsNamedOnlineWhileOfflineOnlyCheckpointsProtect() {
    List<ChainedEvent> events = new ArrayList<>(trail.events());
    ChainedEvent forged = forgedAfter(trail.head(), AuditMac.random());
    events.add(forged);
    events.add(genuineAfter(forged));

    AuditVerifier.Result offline = verify(events, trail.checkpoints());
    assertThat(offline.valid()).as("offline cannot tell: %s", offline).isTrue();

    AuditVerifier.Result online = verifyOnline(events, trail.checkpoints(), Map.of());
    assertThat(online.valid()).isFalse();
    assertThat(online.firstInvalidSeq()).isEqualTo(forged.seq());
    assertThat(online.reason())
        .contains("event " + forged.seq() + " carries no valid MAC")
        .contains("not appended by the broker");
  }

  @Test
  void anOwnerWithoutTheMacKeyWhoRewritesTheUnsignedTailIsNamedOnline() {
    long lastCheckpoint = Tampering.lastCheckpointSeq(trail.checkpoints());
    long k = lastCheckpoint + 1 + new Random(SEED).nextInt((int) (EVENTS - lastCheckpoint - 1));
    Tampered rewritten = Tampering.rewrite(trail, k, new Random(SEED), AuditMac.random());
    assertThat(rewritten.expectValid()).as("after the last checkpoint").isTrue();

    assertThat(verify(rewritten.events(), rewritten.checkpoints()).valid()).isTrue();
    AuditVerifier.Result online =
        verifyOnline(rewritten.events(), rewritten.checkpoints(), Map.of());
    assertThat(online.firstInvalidSeq()).as(online.toString()).isEqualTo(k);
    assertThat(online.reason()).contains("no valid MAC");
  }

  @Test
  void eventsWithoutMacArePlausibleOnlyBeforeTheFirstEventWithOne() {
    List<ChainedEvent> events = new ArrayList<>();
    String previous = ChainedEvent.GENESIS_HASH;
    Instant time = Instant.parse("2024-12-31T00:00:00Z");
    for (int seq = 1; seq <= 5; seq++) {
      time = time.plusSeconds(1);
      ChainedEvent legacy = ChainedEvent.chain(seq, legacyEntry(time, "store.created"), previous);
      events.add(legacy);
      previous = legacy.hash();
    }
    for (int seq = 6; seq <= 8; seq++) {
      time = time.plusSeconds(1);
      ChainedEvent current = ChainedEvent.chain(seq, generator.entry(time), previous);
      events.add(current);
      previous = current.hash();
    }
    assertThat(verify(events, List.of()).valid()).isTrue();
    assertThat(verifyOnline(events, List.of(), Map.of()).valid()).isTrue();

    events.add(
        ChainedEvent.chain(9, legacyEntry(time.plusSeconds(1), "refund.succeeded"), previous));
    AuditVerifier.Result offline = verify(events, List.of());
    assertThat(offline.firstInvalidSeq()).isEqualTo(9);
    assertThat(offline.reason()).contains("carries no MAC although earlier events do");
    assertThat(verifyOnline(events, List.of(), Map.of()).firstInvalidSeq()).isEqualTo(9);
  }

  @Test
  void anAcknowledgedForgeryIsListedAndVerificationGoesOnPastIt() {
    List<ChainedEvent> events = new ArrayList<>(trail.events());
    ChainedEvent forged = forgedAfter(trail.head(), AuditMac.random());
    ChainedEvent ack = acknowledgement(forged, forged.hash(), mac);
    ChainedEvent later = genuineAfter(ack);
    events.addAll(List.of(forged, ack, later));
    Map<Long, AuditVerifier.Acknowledgement> acks =
        Map.of(forged.seq(), new AuditVerifier.Acknowledgement(ack.seq(), forged.hash()));

    AuditVerifier.Result online = verifyOnline(events, trail.checkpoints(), acks);
    assertThat(online.valid()).as(online.toString()).isTrue();
    assertThat(online.acknowledgedForgeries()).containsExactly(forged.seq());
    assertThat(online.toJson().getJsonArray("acknowledgedForgeries").getList())
        .containsExactly(forged.seq());
    AuditVerifier.Result offline = verify(events, trail.checkpoints());
    assertThat(offline.valid()).isTrue();
    assertThat(offline.acknowledgedForgeries()).containsExactly(forged.seq());

    // verification went on past the acknowledged forgery: a later change is still named
    List<ChainedEvent> changedLater = new ArrayList<>(events);
    Tampered changed =
        Tampering.apply(
            Kind.CHANGE_FIELD,
            new Trail(List.of(later), List.of()),
            generator,
            new Random(SEED),
            attacker);
    changedLater.set(changedLater.size() - 1, changed.events().get(0));
    AuditVerifier.Result named = verifyOnline(changedLater, trail.checkpoints(), acks);
    assertThat(named.firstInvalidSeq()).isEqualTo(later.seq());
    assertThat(named.acknowledgedForgeries()).containsExactly(forged.seq());
  }

  @Test
  void anAcknowledgementCountsOnlyWhenGenuineAndForThatVeryEvent() {
    ChainedEvent forged = forgedAfter(trail.head(), AuditMac.random());
    for (ChainedEvent ack :
        List.of(
            acknowledgement(forged, "e".repeat(64), mac),
            acknowledgement(forged, forged.hash(), AuditMac.random()))) {
      List<ChainedEvent> events = new ArrayList<>(trail.events());
      events.addAll(List.of(forged, ack));
      Map<Long, AuditVerifier.Acknowledgement> acks =
          Map.of(forged.seq(), new AuditVerifier.Acknowledgement(ack.seq(), forged.hash()));
      AuditVerifier.Result result = verifyOnline(events, trail.checkpoints(), acks);
      assertThat(result.valid()).as(result.toString()).isFalse();
      assertThat(result.firstInvalidSeq()).isEqualTo(forged.seq());
      assertThat(result.acknowledgedForgeries()).isEmpty();
    }
  }

  @Test
  void theCheckpointersSegmentStartsAtTheLastCheckpointAndStopsAtTheFirstForgery() {
    long anchor = Tampering.lastCheckpointSeq(trail.checkpoints());
    AuditVerifier clean =
        AuditVerifier.segment(anchor, trail.at(anchor).hash(), true, mac, Map.of());
    trail.events().subList((int) anchor, EVENTS).forEach(clean::accept);
    AuditVerifier.Result valid = clean.finish();
    assertThat(valid.valid()).as(valid.toString()).isTrue();
    assertThat(valid.headSeq()).isEqualTo(EVENTS);
    assertThat(valid.headHash()).isEqualTo(trail.head().hash());

    ChainedEvent forged = forgedAfter(trail.head(), AuditMac.random());
    AuditVerifier forgedSegment =
        AuditVerifier.segment(anchor, trail.at(anchor).hash(), true, mac, Map.of());
    trail.events().subList((int) anchor, EVENTS).forEach(forgedSegment::accept);
    forgedSegment.accept(forged);
    assertThat(forgedSegment.failed()).isTrue();
    assertThat(forgedSegment.finish().firstInvalidSeq()).isEqualTo(forged.seq());

    AuditVerifier wrongAnchor = AuditVerifier.segment(anchor, "c".repeat(64), true, mac, Map.of());
    trail.events().subList((int) anchor, EVENTS).forEach(wrongAnchor::accept);
    assertThat(wrongAnchor.finish().firstInvalidSeq()).isEqualTo(anchor + 1);
  }

  /** A well-formed event continuing after {@code previous}, MAC'd with {@code forger}'s key. */
  private static ChainedEvent forgedAfter(ChainedEvent previous, AuditMac forger) {
    return ChainedEvent.chain(
        previous.seq() + 1,
        AuditEntry.create(
            previous.occurredAt().plusMillis(1),
            new Actor("cl_till", "STORE", "store-1"),
            "req-forged",
            AuditEvent.success(
                "refund.succeeded",
                "refund",
                "r-forged",
                "chain-0",
                new JsonObject().put("amount", new JsonObject().put("value", 9900))),
            forger),
        previous.hash());
  }

  private ChainedEvent genuineAfter(ChainedEvent previous) {
    return ChainedEvent.chain(
        previous.seq() + 1, generator.entry(previous.occurredAt().plusMillis(1)), previous.hash());
  }

  private static ChainedEvent acknowledgement(ChainedEvent forged, String hash, AuditMac by) {
    return ChainedEvent.chain(
        forged.seq() + 1,
        AuditEntry.create(
            forged.occurredAt().plusMillis(1),
            new Actor("cl_admin", "ADMIN", null),
            "req-ack",
            new AuditEvent(
                AuditVerifier.ACKNOWLEDGED,
                "audit-event",
                Long.toString(forged.seq()),
                null,
                "SUCCESS",
                new JsonObject()
                    .put("seq", forged.seq())
                    .put("hash", hash)
                    .put("reason", "inserted by the test")),
            by),
        forged.hash());
  }

  private static AuditEntry legacyEntry(Instant time, String action) {
    return AuditEntry.legacy(
        time,
        Actor.system("test"),
        action,
        "store",
        "s-" + time.getEpochSecond(),
        null,
        "SUCCESS",
        null,
        new JsonObject().put("n", time.getEpochSecond()));
  }

  private AuditVerifier.Result verifyOnline(
      List<ChainedEvent> events,
      List<Checkpoint> checkpoints,
      Map<Long, AuditVerifier.Acknowledgement> acks) {
    AuditVerifier verifier =
        new AuditVerifier(checkpoints, List.of(key.publicKey())).withMac(mac, acks);
    events.forEach(verifier::accept);
    return verifier.finish();
  }

  private AuditVerifier.Result verify(List<ChainedEvent> events, List<Checkpoint> checkpoints) {
    AuditVerifier verifier = new AuditVerifier(checkpoints, List.of(key.publicKey()));
    events.forEach(verifier::accept);
    return verifier.finish();
  }
}
