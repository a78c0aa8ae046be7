package io.refundbroker.audit;

import io.refundbroker.audit.TrailGenerator.Trail;
import io.refundbroker.audit.signing.Ed25519KeyPair;
import io.refundbroker.caller.Actor;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The insider's toolbox: each {@link Kind} tampers with a generated trail at a random position and
 * says what an honest verifier must answer. Used by the pure verifier test, the endpoint test (the
 * tampered rows are written to PostgreSQL) and the offline CLI test (written to JSONL files).
 *
 * <p>This insider is the worst case: the database owner who also holds the MAC key (inserted and
 * rewritten events carry valid MACs), so what is detected here is what the hash chain and the
 * signed checkpoints detect on their own. An insider without the MAC key is caught earlier still
 * (see {@code ForgedEventIT} and the MAC cases of {@code AuditVerifierTest}).
 */
final class Tampering {
  private Tampering() {}

  /** What was done to the trail. */
  enum Kind {
    NONE,
    CHANGE_FIELD,
    DELETE,
    DELETE_RENUMBERED,
    SWAP,
    INSERT,
    TRUNCATE,
    REWRITE,
    FORGE_CHECKPOINT,
    REWRITE_AND_FORGE
  }

  /**
   * A tampered trail and the verdict it must get.
   *
   * @param events the tampered events (seq {@code firstSeq} … of the original stretch)
   * @param firstChangedSeq the lowest seq whose stored row differs from the original (head + 1 when
   *     only checkpoints changed)
   * @param expectValid true when the documented limits make this tampering undetectable
   * @param expectedFirstInvalidSeq what the verifier must name (when not valid)
   * @param actualFirstBadSeq where the tampering really begins (≥ the expected seq)
   */
  record Tampered(
      Kind kind,
      List<ChainedEvent> events,
      List<Checkpoint> checkpoints,
      long firstChangedSeq,
      boolean expectValid,
      long expectedFirstInvalidSeq,
      long actualFirstBadSeq,
      String description) {

    @Override
    public String toString() {
      return description;
    }
  }

  /**
   * Applies {@code kind} to {@code trail} at a random position chosen with {@code random}.
   *
   * @param attacker a key that is not the broker's (for forged checkpoints)
   */
  static Tampered apply(
      Kind kind, Trail trail, TrailGenerator generator, Random random, Ed25519KeyPair attacker) {
    List<ChainedEvent> events = new ArrayList<>(trail.events());
    List<Checkpoint> checkpoints = new ArrayList<>(trail.checkpoints());
    long first = trail.firstSeq();
    long last = trail.lastSeq();
    long none = last + 1;
    switch (kind) {
      case NONE -> {
        return new Tampered(kind, events, checkpoints, none, true, 0, 0, "untouched");
      }
      case CHANGE_FIELD -> {
        long k = between(random, first, last);
        ChainedEvent original = trail.at(k);
        String field = FIELDS[random.nextInt(FIELDS.length)];
        events.set(index(trail, k), changed(original, field, random));
        return new Tampered(
            kind, events, checkpoints, k, false, k, k, "changed " + field + " of " + k);
      }
      case DELETE -> {
        long k = between(random, first, last - 1);
        events.remove(index(trail, k));
        return new Tampered(kind, events, checkpoints, k, false, k, k, "deleted " + k);
      }
      case DELETE_RENUMBERED -> {
        long k = between(random, first, last - 1);
        events.remove(index(trail, k));
        for (int i = index(trail, k); i < events.size(); i++) {
          events.set(i, withSeq(events.get(i), events.get(i).seq() - 1));
        }
        return new Tampered(
            kind, events, checkpoints, k, false, k, k, "deleted " + k + " and renumbered");
      }
      case SWAP -> {
        long k = between(random, first, last - 1);
        ChainedEvent a = trail.at(k);
        ChainedEvent b = trail.at(k + 1);
        events.set(index(trail, k), withSeq(b, k));
        events.set(index(trail, k + 1), withSeq(a, k + 1));
        return new Tampered(
            kind, events, checkpoints, k, false, k, k, "swapped " + k + "/" + (k + 1));
      }
      case INSERT -> {
        long k = between(random, first + 1, last);
        int count = 1 + random.nextInt(3);
        String previous = trail.at(k - 1).hash();
        int at = index(trail, k);
        for (int i = 0; i < count; i++) {
          ChainedEvent forged =
              ChainedEvent.chain(
                  k + i, generator.entry(trail.at(k - 1).occurredAt().plusNanos(1000)), previous);
          events.add(at + i, forged);
          previous = forged.hash();
        }
        for (int i = at + count; i < events.size(); i++) {
          events.set(i, withSeq(events.get(i), events.get(i).seq() + count));
        }
        return new Tampered(
            kind, events, checkpoints, k, false, k, k, "inserted " + count + " at " + k);
      }
      case TRUNCATE -> {
        long t = between(random, first + 1, last);
        events.subList(index(trail, t), events.size()).clear();
        boolean detectable = lastCheckpointSeq(checkpoints) >= t;
        return new Tampered(kind, events, checkpoints, t, !detectable, t, t, "truncated from " + t);
      }
      case REWRITE -> {
        return rewrite(trail, between(random, first, last), random, generator.mac());
      }
      case FORGE_CHECKPOINT -> {
        return forgeCheckpoint(trail, events, checkpoints, random, attacker);
      }
      case REWRITE_AND_FORGE -> {
        long k = between(random, first, last);
        rewriteFrom(events, trail, k, random, generator.mac());
        List<Checkpoint> kept = new ArrayList<>();
        for (Checkpoint c : checkpoints) {
          kept.add(
              c.seq() < k
                  ? c
                  : TrailGenerator.sign(
                      new Checkpoint(
                          c.seq(),
                          events.get(index(trail, c.seq())).hash(),
                          c.signedAt(),
                          c.keyId(),
                          null),
                      attacker));
        }
        return rewriteVerdict(kind, events, kept, k, "rewrote from " + k + " and re-signed");
      }
      default -> throw new IllegalArgumentException(kind.name());
    }
  }

  /**
   * Changes event {@code k}, gives it a valid MAC with {@code mac} and recomputes every hash from
   * there on (no signing key needed).
   */
  static Tampered rewrite(Trail trail, long k, Random random, AuditMac mac) {
    List<ChainedEvent> events = new ArrayList<>(trail.events());
    rewriteFrom(events, trail, k, random, mac);
    return rewriteVerdict(
        Kind.REWRITE, events, new ArrayList<>(trail.checkpoints()), k, "rewrote from " + k);
  }

  private static final String[] FIELDS = {
    "action", "outcome", "subject", "actor", "details", "occurredAt", "chainId", "requestId"
  };

  /** {@code e} with {@code field} changed; its MAC is left as it was (so no longer valid). */
  private static ChainedEvent changed(ChainedEvent e, String field, Random random) {
    JsonObject details = e.details().copy();
    Actor actor = e.actor();
    String action = e.action();
    String outcome = e.outcome();
    String subjectId = e.subjectId();
    String chainId = e.chainId();
    String requestId = e.requestId();
    java.time.Instant at = e.occurredAt();
    switch (field) {
      case "action" -> action = action + ".x";
      case "outcome" -> outcome = "SUCCESS".equals(outcome) ? "FAILED" : "SUCCESS";
      case "subject" -> subjectId = subjectId + "9";
      case "actor" -> actor = new Actor("cl_insider", actor.role(), actor.storeId());
      case "details" ->
          details.put(
              "amount",
              details
                  .getJsonObject("amount")
                  .copy()
                  .put("value", details.getJsonObject("amount").getLong("value") + 1));
      case "occurredAt" -> at = at.plusNanos(1000);
      case "chainId" -> chainId = chainId == null ? "chain-x" : null;
      case "requestId" -> requestId = requestId == null ? "req-x" : requestId + "x";
      default -> throw new IllegalArgumentException(field);
    }
    AuditEntry entry =
        new AuditEntry(
            e.entry().eventId(),
            at,
            actor,
            action,
            e.subjectType(),
            subjectId,
            chainId,
            outcome,
            requestId,
            details,
            e.entry().mac());
    return new ChainedEvent(e.seq(), entry, e.prevHash(), e.hash());
  }

  private static void rewriteFrom(
      List<ChainedEvent> events, Trail trail, long k, Random random, AuditMac mac) {
    int at = index(trail, k);
    ChainedEvent changed = changed(events.get(at), "outcome", random);
    AuditEntry remac = changed.entry().withMac(mac.mac(changed.entry().canonical()));
    events.set(at, new ChainedEvent(changed.seq(), remac, changed.prevHash(), changed.hash()));
    String previous = at == 0 ? trail.at(k).prevHash() : events.get(at - 1).hash();
    for (int i = at; i < events.size(); i++) {
      ChainedEvent e = events.get(i);
      ChainedEvent relinked = placed(e, e.seq(), previous, null);
      relinked = relinked.withHash(relinked.computeHash());
      events.set(i, relinked);
      previous = relinked.hash();
    }
  }

  private static Tampered rewriteVerdict(
      Kind kind, List<ChainedEvent> events, List<Checkpoint> checkpoints, long k, String what) {
    boolean covered = checkpoints.stream().anyMatch(c -> c.seq() >= k);
    long lastValidBefore =
        checkpoints.stream().mapToLong(Checkpoint::seq).filter(s -> s < k).max().orElse(0);
    return new Tampered(kind, events, checkpoints, k, !covered, lastValidBefore + 1, k, what);
  }

  private static Tampered forgeCheckpoint(
      Trail trail,
      List<ChainedEvent> events,
      List<Checkpoint> checkpoints,
      Random random,
      Ed25519KeyPair attacker) {
    long none = trail.lastSeq() + 1;
    int variant = random.nextInt(3);
    if (variant == 0 && !checkpoints.isEmpty()) {
      int j = random.nextInt(checkpoints.size());
      Checkpoint original = checkpoints.get(j);
      byte[] garbage = new byte[64];
      random.nextBytes(garbage);
      checkpoints.set(j, original.withSignature(garbage));
      return new Tampered(
          Kind.FORGE_CHECKPOINT,
          events,
          checkpoints,
          none,
          false,
          j == 0 ? 1 : checkpoints.get(j - 1).seq() + 1,
          original.seq(),
          "random signature on checkpoint " + original.seq());
    }
    if (variant == 1 && !checkpoints.isEmpty()) {
      int j = random.nextInt(checkpoints.size());
      Checkpoint original = checkpoints.get(j);
      Checkpoint forged =
          TrailGenerator.sign(
              new Checkpoint(
                  original.seq(), "f".repeat(64), original.signedAt(), original.keyId(), null),
              attacker);
      checkpoints.set(j, forged);
      return new Tampered(
          Kind.FORGE_CHECKPOINT,
          events,
          checkpoints,
          none,
          false,
          j == 0 ? 1 : checkpoints.get(j - 1).seq() + 1,
          original.seq(),
          "checkpoint " + original.seq() + " replaced by one signed with another key");
    }
    long s = between(random, trail.firstSeq(), trail.lastSeq());
    while (seqs(checkpoints).contains(s)) {
      s = between(random, trail.firstSeq(), trail.lastSeq());
    }
    long at = s;
    Checkpoint added =
        TrailGenerator.sign(
            new Checkpoint(s, trail.at(s).hash(), trail.at(s).occurredAt(), "local:x", null),
            attacker);
    checkpoints.add(added);
    checkpoints.sort(java.util.Comparator.comparingLong(Checkpoint::seq));
    long before =
        checkpoints.stream().mapToLong(Checkpoint::seq).filter(c -> c < at).max().orElse(0);
    return new Tampered(
        Kind.FORGE_CHECKPOINT,
        events,
        checkpoints,
        none,
        false,
        before + 1,
        s,
        "extra checkpoint at " + s + " signed with another key");
  }

  private static List<Long> seqs(List<Checkpoint> checkpoints) {
    return checkpoints.stream().map(Checkpoint::seq).toList();
  }

  static long lastCheckpointSeq(List<Checkpoint> checkpoints) {
    return checkpoints.stream().mapToLong(Checkpoint::seq).max().orElse(0);
  }

  static ChainedEvent withSeq(ChainedEvent e, long seq) {
    return placed(e, seq, e.prevHash(), e.hash());
  }

  /** {@code e}'s content at {@code seq}, with the given links (as an attacker would store it). */
  private static ChainedEvent placed(ChainedEvent e, long seq, String prevHash, String hash) {
    return new ChainedEvent(seq, e.entry(), prevHash, hash);
  }

  private static int index(Trail trail, long seq) {
    return (int) (seq - trail.firstSeq());
  }

  private static long between(Random random, long lo, long hi) {
    return lo + (long) random.nextInt((int) (hi - lo + 1));
  }
}
