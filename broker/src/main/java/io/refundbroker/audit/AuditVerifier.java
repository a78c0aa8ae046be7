package io.refundbroker.audit;

import io.refundbroker.audit.signing.CheckpointKey;
import io.refundbroker.audit.signing.Ed25519PublicKey;
import io.refundbroker.sabotage.Sabotage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Verifies an audit trail: the one implementation behind {@code GET /v1/audit/verify} and the
 * offline {@code audit verify} command. Pure (no database, no I/O): feed it the events in seq order
 * with {@link #accept}, then call {@link #finish}. It keeps O(1) memory in the number of events
 * (plus the checkpoints and a window of recent hashes), so a million events stream through it.
 *
 * <h2>What is checked</h2>
 *
 * <ol>
 *   <li><b>Order</b>: seqs run 1, 2, 3 … without a gap or repeat.
 *   <li><b>Content</b>: each event's stored hash equals {@code SHA-256(prevHash + "\n" +
 *       canonical(content))}.
 *   <li><b>Link</b>: each event's {@code prevHash} equals the previous event's hash (the all-zero
 *       hash for seq 1).
 *   <li><b>Checkpoints</b>: every checkpoint's Ed25519 signature verifies with the key it names
 *       (see below), its {@code headHash} equals the trail's hash at its seq, and no checkpoint
 *       refers to a seq beyond the head.
 *   <li><b>Authenticity</b>: no event without a MAC follows one with a MAC (only events appended
 *       before schema V10 lack one), and — online only, with the MAC key ({@link #withMac}) — every
 *       event carries the {@link AuditMac} of its content. Offline verification (auditors do not
 *       get the MAC key) relies on the signed checkpoints instead: the checkpointer checks every
 *       MAC before it signs.
 * </ol>
 *
 * <h2>Which key checks a checkpoint</h2>
 *
 * A checkpoint names its key id and version. A named key of that id and version (from the signer,
 * or a key set exported by {@code GET /v1/audit/public-keys}) must verify it; otherwise an unnamed
 * key (a bare PEM) whose fingerprint is that version (a key file's version is its fingerprint), or
 * failing that any unnamed key that verifies it, which is then taken as that version for the rest
 * of the run. A checkpoint made before versions were recorded may verify with any key given. A
 * checkpoint whose key version was not given <em>cannot be checked</em>: that is reported as such
 * (the trail is not called valid, but no event is named as bad), never as tampering; the events it
 * would cover stay protected by the next checkpoint that can be checked. Should a later checkpoint
 * of the same version verify with an unnamed key, the earlier one that did not is forged after all
 * and reported so.
 *
 * <h2>Which event is named ({@code firstInvalidSeq})</h2>
 *
 * Verification stops at the first problem in seq order and names:
 *
 * <ul>
 *   <li><b>a changed field</b>: that event (its hash no longer matches its content);
 *   <li><b>a deleted event</b>: the first missing seq (seq gap), or, if the followers were
 *       renumbered, the event now at that seq (its content and link no longer match);
 *   <li><b>two events swapped</b>: the lower seq of the two (content and link mismatch there);
 *   <li><b>an inserted event</b> (followers renumbered): the inserted event, found because the next
 *       original event still records the inserted event's predecessor as its own (searched among
 *       the last {@value #WINDOW} events);
 *   <li><b>an event changed and rehashed</b> (followers left alone): that event, because its intact
 *       successor recorded a different predecessor hash;
 *   <li><b>the tail truncated</b>: the first missing seq (head + 1), known because a signed
 *       checkpoint refers to a later seq. A truncation after the last checkpoint leaves nothing
 *       signed behind and is <em>not detectable</em>: only the part up to the last checkpoint is
 *       protected, which is why checkpoints should be frequent and exports kept elsewhere;
 *   <li><b>the chain rewritten consistently</b> from some event on (every hash recomputed, which
 *       needs no key): the hashes agree with each other, but the next checkpoint's signed head hash
 *       no longer matches. The rewritten event cannot be pinpointed; the verifier names the first
 *       seq not covered by a still-valid checkpoint (last valid checkpoint's seq + 1): the rewrite
 *       began at or after it and at or before the mismatching checkpoint. A rewrite after the last
 *       checkpoint is not detectable offline; online, the changed event is named by its MAC unless
 *       whoever changed it holds the MAC key;
 *   <li><b>a forged checkpoint</b> (signature does not verify): likewise the last valid
 *       checkpoint's seq + 1, since nothing after it is vouched for any more;
 *   <li><b>a forged event</b> (inserted well-formed, continuing the chain, by someone without the
 *       MAC key; online only): that event, because its MAC does not verify — unless a genuine
 *       {@value #ACKNOWLEDGED} event later in the trail names it (seq and hash): then it is listed
 *       in {@code acknowledgedForgeries} and verification goes on past it.
 * </ul>
 *
 * A checkpoint whose signed hash does not match is judged over the events that follow it (up to
 * {@value #WINDOW} of them, while they still link): if one of them shows an insertion or a
 * changed-and-rehashed event at or before the checkpoint, that event is named instead of the
 * coarser "rewritten since the last valid checkpoint".
 *
 * <p>Where two explanations fit the same evidence (an event changed and rehashed, or its
 * successor's {@code prevHash} changed and rehashed), the earlier event is named unless a valid
 * checkpoint covers it.
 */
public final class AuditVerifier {
  /** How many recent events are remembered to recognise inserted ones. */
  public static final int WINDOW = 1024;

  /** The action of the event by which an operator acknowledges a forged event. */
  public static final String ACKNOWLEDGED = "audit.forgery.acknowledged";

  /**
   * What an {@value #ACKNOWLEDGED} event at {@code ackSeq} says: the event it names has hash {@code
   * hash} and is a forgery.
   */
  public record Acknowledgement(long ackSeq, String hash) {}

  private record PendingForgery(Failure failure, String hash) {}

  private final List<Checkpoint> checkpoints;
  private final CheckpointKeys keys;
  private final Map<String, Ed25519PublicKey> learned = new HashMap<>();
  private final List<Unchecked> unchecked = new ArrayList<>();
  private final String[] recentHashes = new String[WINDOW];
  private AuditMac mac;
  private Map<Long, Acknowledgement> claims = Map.of();
  private final TreeMap<Long, PendingForgery> pendingForgeries = new TreeMap<>();
  private final List<Long> acknowledged = new ArrayList<>();
  private boolean sawMac;

  private int nextCheckpoint;
  private long expectedSeq = 1;
  private String previousHash = ChainedEvent.GENESIS_HASH;
  private long lastValidCheckpointSeq;
  private int verifiedCheckpoints;
  private long checked;
  private long headSeq;
  private String headHash = ChainedEvent.GENESIS_HASH;
  private Long firstInvalidSeq;
  private String reason;
  private Failure pending;
  private long pendingAt;

  /**
   * @param checkpoints the signed checkpoints, in any order
   * @param keys the public keys the checkpoints may be signed with
   */
  public AuditVerifier(List<Checkpoint> checkpoints, CheckpointKeys keys) {
    this.checkpoints = new ArrayList<>(checkpoints);
    this.checkpoints.sort(Comparator.comparingLong(Checkpoint::seq));
    this.keys = Objects.requireNonNull(keys, "keys");
  }

  /**
   * @param checkpoints the signed checkpoints, in any order
   * @param keys unnamed public keys (PEM files) the checkpoints may be signed with
   */
  public AuditVerifier(List<Checkpoint> checkpoints, List<Ed25519PublicKey> keys) {
    this(checkpoints, CheckpointKeys.unnamed(keys));
  }

  /** A checkpoint whose key version was not given, and the last valid checkpoint before it. */
  private record Unchecked(Checkpoint checkpoint, long lastValidBefore) {}

  /** The first checkpoint that could not be checked, and the key version it names. */
  public record UncheckedCheckpoint(long seq, String keyId, String keyVersion) {}

  /**
   * Also checks every event's MAC with {@code key} (online verification and the checkpointer).
   *
   * @param acknowledgements the {@value #ACKNOWLEDGED} events of the trail by the seq they name, as
   *     read from it (each is confirmed only when the verifier reaches it and finds it genuine)
   */
  public AuditVerifier withMac(AuditMac key, Map<Long, Acknowledgement> acknowledgements) {
    this.mac = Objects.requireNonNull(key, "key");
    this.claims = Map.copyOf(acknowledgements);
    return this;
  }

  /**
   * A verifier for the stretch after {@code afterSeq} (whose hash is {@code afterHash}), as the
   * checkpointer checks it before signing: no checkpoints, every MAC checked.
   *
   * @param afterHasMac whether the event at {@code afterSeq} carries a MAC (then every later one
   *     must)
   */
  public static AuditVerifier segment(
      long afterSeq,
      String afterHash,
      boolean afterHasMac,
      AuditMac key,
      Map<Long, Acknowledgement> acknowledgements) {
    AuditVerifier verifier = new AuditVerifier(List.of(), List.of()).withMac(key, acknowledgements);
    verifier.expectedSeq = afterSeq + 1;
    verifier.previousHash = afterHash;
    verifier.lastValidCheckpointSeq = afterSeq;
    verifier.headSeq = afterSeq;
    verifier.headHash = afterHash;
    verifier.sawMac = afterHasMac;
    verifier.recentHashes[(int) (afterSeq % WINDOW)] = afterHash;
    return verifier;
  }

  /** Whether a problem has been found (events after it are only counted). */
  public boolean failed() {
    return firstInvalidSeq != null;
  }

  /**
   * The outcome; {@code firstInvalidSeq} and {@code reason} are null when valid. A trail with no
   * bad event in which some checkpoint could not be checked (its key version was not given) is not
   * valid, has no {@code firstInvalidSeq}, and its {@code reason} says which checkpoint and key
   * version.
   *
   * @param uncheckedCheckpoints how many checkpoints could not be checked
   * @param firstUnchecked the first of them, or null
   * @param acknowledgedForgeries forged events an operator acknowledged (in seq order)
   * @param unlinkedEvents committed events not linked into the chain yet (online only, else null)
   * @param oldestUnlinkedAt when the oldest of them happened (null when there is none)
   */
  public record Result(
      boolean valid,
      long checkedEvents,
      long headSeq,
      String headHash,
      Long firstInvalidSeq,
      String reason,
      int checkpointsVerified,
      long lastValidCheckpointSeq,
      int uncheckedCheckpoints,
      UncheckedCheckpoint firstUnchecked,
      List<Long> acknowledgedForgeries,
      Long unlinkedEvents,
      Instant oldestUnlinkedAt) {

    public Result {
      acknowledgedForgeries = List.copyOf(acknowledgedForgeries);
    }

    /** Whether nothing was found to be bad, but a checkpoint could not be checked. */
    public boolean unverifiable() {
      return !valid && firstInvalidSeq == null;
    }

    /** This result with what the database says about events not linked yet. */
    public Result withUnlinked(long count, Instant oldest) {
      return new Result(
          valid,
          checkedEvents,
          headSeq,
          headHash,
          firstInvalidSeq,
          reason,
          checkpointsVerified,
          lastValidCheckpointSeq,
          uncheckedCheckpoints,
          firstUnchecked,
          acknowledgedForgeries,
          count,
          oldest);
    }

    /** The {@code GET /v1/audit/verify} body. */
    public JsonObject toJson() {
      JsonObject json =
          new JsonObject()
              .put("valid", valid)
              .put("checkedEvents", checkedEvents)
              .put("headSeq", headSeq)
              .put("headHash", headHash)
              .put("checkpointsVerified", checkpointsVerified)
              .put("lastValidCheckpointSeq", lastValidCheckpointSeq);
      if (valid) {
        json.put("unsignedEvents", headSeq - lastValidCheckpointSeq);
      } else {
        if (firstInvalidSeq != null) {
          json.put("firstInvalidSeq", firstInvalidSeq);
        }
        json.put("reason", reason);
      }
      if (firstUnchecked != null) {
        json.put("uncheckedCheckpoints", uncheckedCheckpoints)
            .put(
                "firstUncheckedCheckpoint",
                new JsonObject()
                    .put("seq", firstUnchecked.seq())
                    .put("keyId", firstUnchecked.keyId())
                    .put("keyVersion", firstUnchecked.keyVersion()));
      }
      if (!acknowledgedForgeries.isEmpty()) {
        json.put(
            "acknowledgedForgeries", new JsonArray(new ArrayList<Object>(acknowledgedForgeries)));
      }
      if (unlinkedEvents != null) {
        json.put("unlinkedEvents", unlinkedEvents);
        if (oldestUnlinkedAt != null) {
          json.put("oldestUnlinkedAt", ChainedEvent.formatTime(oldestUnlinkedAt));
        }
      }
      return json;
    }
  }

  /** Checks the next event. Events after the first problem are only counted. */
  public void accept(ChainedEvent event) {
    Objects.requireNonNull(event, "event");
    checked++;
    headSeq = event.seq();
    headHash = event.hash();
    if (firstInvalidSeq != null) {
      return;
    }
    Failure failure = check(event);
    if (pending != null) {
      // a checkpoint mismatched earlier; a later broken link may say more precisely where (events
      // inserted at the checkpoint show only at the first original event after them)
      if (failure != null) {
        fail(failure.seq() <= pendingAt ? failure : pending);
      } else if (event.seq() - pendingAt >= WINDOW - 1) {
        fail(pending);
      } else {
        advance(event);
      }
      return;
    }
    if (failure != null) {
      fail(failure);
      return;
    }
    advance(event);
    checkCheckpointsAt(event.seq(), event.hash());
  }

  private void advance(ChainedEvent event) {
    previousHash = event.hash();
    recentHashes[(int) (event.seq() % WINDOW)] = event.hash();
    expectedSeq++;
    noteAcknowledgement(event);
  }

  /**
   * An intact (and, online, genuine) acknowledgement confirms the forged event it names; offline,
   * where MACs cannot be checked, it is reported as the trail states it.
   */
  private void noteAcknowledgement(ChainedEvent event) {
    if (!ACKNOWLEDGED.equals(event.action())
        || event.entry().legacy()
        || pendingForgeries.containsKey(event.seq())) {
      return;
    }
    Object named = event.details().getValue("seq");
    Object hash = event.details().getValue("hash");
    if (!(named instanceof Number number) || !(hash instanceof String)) {
      return;
    }
    long seq = number.longValue();
    if (mac == null) {
      if (seq < event.seq() && !acknowledged.contains(seq)) {
        acknowledged.add(seq);
      }
      return;
    }
    PendingForgery forged = pendingForgeries.get(seq);
    if (forged != null && forged.hash().equals(hash)) {
      pendingForgeries.remove(seq);
      acknowledged.add(seq);
    }
  }

  /**
   * Records that the next event could not be read at all (e.g. a malformed line of an export): the
   * trail is invalid from the seq that was expected there.
   */
  public void acceptUnreadable(String problem) {
    checked++;
    if (firstInvalidSeq == null) {
      fail(
          pending != null
              ? pending
              : new Failure(
                  expectedSeq,
                  "the event after seq " + (expectedSeq - 1) + " is unreadable: " + problem));
    }
  }

  /**
   * Ends verification: checks what only the end can show (checkpoints beyond the head, unchecked
   * checkpoints whose key turned up later).
   */
  public Result finish() {
    if (firstInvalidSeq == null && pending != null) {
      fail(pending);
    }
    if (firstInvalidSeq == null && !pendingForgeries.isEmpty()) {
      fail(pendingForgeries.firstEntry().getValue().failure());
    }
    while (firstInvalidSeq == null && nextCheckpoint < checkpoints.size()) {
      Checkpoint beyond = checkpoints.get(nextCheckpoint++);
      SignatureCheck check = checkSignature(beyond);
      if (check == SignatureCheck.UNKNOWN_KEY) {
        unchecked.add(new Unchecked(beyond, lastValidCheckpointSeq));
      } else if (check == SignatureCheck.INVALID) {
        fail(forged(beyond, lastValidCheckpointSeq));
      } else {
        fail(
            new Failure(
                expectedSeq,
                "the signed checkpoint at seq "
                    + beyond.seq()
                    + " refers beyond the head (seq "
                    + (expectedSeq - 1)
                    + "): events "
                    + expectedSeq
                    + ".."
                    + beyond.seq()
                    + " were removed"));
      }
    }
    recheckUnchecked();
    boolean intact = firstInvalidSeq == null;
    UncheckedCheckpoint first =
        unchecked.isEmpty()
            ? null
            : new UncheckedCheckpoint(
                unchecked.get(0).checkpoint().seq(),
                unchecked.get(0).checkpoint().keyId(),
                unchecked.get(0).checkpoint().keyVersion());
    return new Result(
        intact && unchecked.isEmpty(),
        checked,
        headSeq,
        headHash,
        firstInvalidSeq,
        intact && first != null ? cannotCheck(first) : reason,
        verifiedCheckpoints,
        lastValidCheckpointSeq,
        unchecked.size(),
        first,
        acknowledged.stream().sorted().toList(),
        null,
        null);
  }

  /**
   * An unchecked checkpoint whose key version was later recognised in an unnamed key did not verify
   * with it: it is forged, and named as such if that comes before the failure found so far.
   */
  private void recheckUnchecked() {
    Failure earliest = null;
    for (java.util.Iterator<Unchecked> it = unchecked.iterator(); it.hasNext(); ) {
      Unchecked u = it.next();
      if (learned.containsKey(ref(u.checkpoint()))) {
        it.remove();
        if (earliest == null) {
          earliest = forged(u.checkpoint(), u.lastValidBefore());
        }
      }
    }
    if (earliest != null && (firstInvalidSeq == null || earliest.seq() < firstInvalidSeq)) {
      fail(earliest);
    }
  }

  private String cannotCheck(UncheckedCheckpoint first) {
    return "the checkpoint at seq "
        + first.seq()
        + " (key "
        + first.keyId()
        + ") is signed by key version "
        + first.keyVersion()
        + ", which was not given, so it cannot be checked"
        + (unchecked.size() > 1
            ? " (nor can " + (unchecked.size() - 1) + " later checkpoints)"
            : "")
        + ". This is not evidence of tampering: verify with every key the broker has signed with"
        + " (the key set of GET /v1/audit/public-keys)";
  }

  private record Failure(long seq, String reason) {}

  /** Order, link and content of one event; null when it continues the chain. */
  private Failure check(ChainedEvent event) {
    long seq = event.seq();
    if (seq > expectedSeq) {
      return new Failure(
          expectedSeq,
          seq == expectedSeq + 1
              ? "event "
                  + expectedSeq
                  + " is missing (the trail jumps from seq "
                  + (expectedSeq - 1)
                  + " to "
                  + seq
                  + ")"
              : "events "
                  + expectedSeq
                  + ".."
                  + (seq - 1)
                  + " are missing (the trail jumps from"
                  + " seq "
                  + (expectedSeq - 1)
                  + " to "
                  + seq
                  + ")");
    }
    if (seq < expectedSeq) {
      return new Failure(
          expectedSeq,
          "the event after seq "
              + (expectedSeq - 1)
              + " carries seq "
              + seq
              + " (events out of order or repeated)");
    }
    // the canonical content is encoded once, for the hash and the MAC
    AuditEntry entry = event.entry();
    String canonical = entry.legacy() ? null : entry.canonical();
    String computed =
        canonical == null
            ? event.computeHash()
            : ChainedEvent.linkHash(
                seq, ChainedEvent.sha256Hex(canonical), entry.mac(), event.prevHash());
    boolean selfConsistent = computed.equals(event.hash());
    if (!event.prevHash().equals(previousHash)) {
      return diagnoseBrokenLink(event, selfConsistent);
    }
    if (!selfConsistent) {
      return new Failure(seq, "event " + seq + " was changed: its hash does not match its content");
    }
    return authentic(event, canonical);
  }

  /**
   * Whether the broker appended the event: a MAC where one is due, and (online) the right one. A
   * forgery that a later acknowledgement claims is held back until that acknowledgement is reached.
   */
  private Failure authentic(ChainedEvent event, String canonical) {
    long seq = event.seq();
    AuditEntry entry = event.entry();
    Failure forged = null;
    if (entry.legacy()) {
      if (sawMac) {
        forged =
            new Failure(
                seq,
                "event "
                    + seq
                    + " carries no MAC although earlier events do: it was not appended by the"
                    + " broker (inserted directly into the trail)");
      }
    } else {
      sawMac = true;
      if (mac != null && !mac.verifies(canonical, entry.mac())) {
        forged =
            new Failure(
                seq,
                "event "
                    + seq
                    + " carries no valid MAC: it was not appended by the broker (inserted"
                    + " directly into the trail, or its content and MAC were changed)");
      }
    }
    if (forged == null) {
      return null;
    }
    Acknowledgement claim = claims.get(seq);
    if (mac != null && claim != null && claim.ackSeq() > seq && claim.hash().equals(event.hash())) {
      pendingForgeries.put(seq, new PendingForgery(forged, event.hash()));
      return null;
    }
    return forged;
  }

  private Failure diagnoseBrokenLink(ChainedEvent event, boolean selfConsistent) {
    long seq = event.seq();
    long predecessor = findRecent(event.prevHash(), seq - 2);
    if (predecessor >= 0) {
      return new Failure(
          Math.max(predecessor + 1, lastValidCheckpointSeq + 1),
          "event "
              + seq
              + " records event "
              + predecessor
              + " as its predecessor: events "
              + (predecessor + 1)
              + ".."
              + (seq - 1)
              + " were inserted");
    }
    if (selfConsistent && seq - 1 > lastValidCheckpointSeq) {
      return new Failure(
          seq - 1,
          "event "
              + (seq - 1)
              + " was changed and its hash recomputed: event "
              + seq
              + " recorded a different hash for it");
    }
    return new Failure(
        seq, "event " + seq + " does not link to event " + (seq - 1) + " (prevHash mismatch)");
  }

  /** The seq (≤ {@code maxSeq}, within the window) whose hash is {@code hash}, or -1. */
  private long findRecent(String hash, long maxSeq) {
    for (long seq = maxSeq; seq >= 1 && seq > maxSeq - WINDOW + 1; seq--) {
      if (hash.equals(recentHashes[(int) (seq % WINDOW)])) {
        return seq;
      }
    }
    if (maxSeq >= 0 && maxSeq < WINDOW && hash.equals(ChainedEvent.GENESIS_HASH)) {
      return 0;
    }
    return -1;
  }

  private void checkCheckpointsAt(long seq, String hash) {
    while (nextCheckpoint < checkpoints.size() && checkpoints.get(nextCheckpoint).seq() <= seq) {
      Checkpoint checkpoint = checkpoints.get(nextCheckpoint++);
      if (checkpoint.seq() < seq) {
        // only a checkpoint with seq < 1 can be left behind: events are checked one by one
        fail(
            new Failure(
                lastValidCheckpointSeq + 1,
                "checkpoint at seq " + checkpoint.seq() + " refers to no event"));
        return;
      }
      SignatureCheck check = checkSignature(checkpoint);
      if (check == SignatureCheck.UNKNOWN_KEY) {
        // not vouched for, but no evidence against it either: the next checkable checkpoint
        // covers these events through the chain
        unchecked.add(new Unchecked(checkpoint, lastValidCheckpointSeq));
        continue;
      }
      if (check == SignatureCheck.INVALID) {
        fail(forged(checkpoint, lastValidCheckpointSeq));
        return;
      }
      if (!checkpoint.headHash().equals(hash)) {
        pendingAt = seq;
        pending =
            new Failure(
                lastValidCheckpointSeq + 1,
                "the signed checkpoint at seq "
                    + seq
                    + " does not match the trail's hash there: events "
                    + (lastValidCheckpointSeq + 1)
                    + ".."
                    + seq
                    + " were rewritten");
        return;
      }
      lastValidCheckpointSeq = seq;
      verifiedCheckpoints++;
    }
  }

  private enum SignatureCheck {
    VALID,
    INVALID,
    UNKNOWN_KEY
  }

  /** Checks a checkpoint's signature with the key it names (see the class comment). */
  private SignatureCheck checkSignature(Checkpoint checkpoint) {
    if (Sabotage.SKIP_CHECKPOINT_SIGNATURE_CHECK.on()) {
      return SignatureCheck.VALID;
    }
    byte[] signature = checkpoint.signature();
    if (signature == null) {
      return SignatureCheck.INVALID;
    }
    byte[] message = checkpoint.signedMessage();
    String version = checkpoint.keyVersion();
    if (version == null) {
      // made before versions were recorded: any key given may have signed it
      boolean any =
          keys.named().stream().anyMatch(k -> k.publicKey().verifies(message, signature))
              || keys.unnamed().stream().anyMatch(k -> k.verifies(message, signature));
      return any ? SignatureCheck.VALID : SignatureCheck.INVALID;
    }
    Ed25519PublicKey key = keyFor(checkpoint.keyId(), version);
    if (key != null) {
      return key.verifies(message, signature) ? SignatureCheck.VALID : SignatureCheck.INVALID;
    }
    for (Ed25519PublicKey candidate : keys.unnamed()) {
      if (candidate.verifies(message, signature)) {
        learned.put(ref(checkpoint), candidate);
        return SignatureCheck.VALID;
      }
    }
    return SignatureCheck.UNKNOWN_KEY;
  }

  /** The key known to be {@code keyId} version {@code version}, or null. */
  private Ed25519PublicKey keyFor(String keyId, String version) {
    CheckpointKey named = keys.find(keyId, version);
    if (named != null) {
      return named.publicKey();
    }
    Ed25519PublicKey seen = learned.get(keyId + "\n" + version);
    if (seen != null) {
      return seen;
    }
    for (Ed25519PublicKey candidate : keys.unnamed()) {
      if (candidate.fingerprint().equals(version)) {
        return candidate;
      }
    }
    return null;
  }

  private static String ref(Checkpoint checkpoint) {
    return checkpoint.keyId() + "\n" + checkpoint.keyVersion();
  }

  private static Failure forged(Checkpoint checkpoint, long lastValid) {
    String key =
        checkpoint.keyVersion() == null
            ? "the public key"
            : "key version " + checkpoint.keyVersion() + " of " + checkpoint.keyId();
    return new Failure(
        lastValid + 1,
        "the checkpoint at seq "
            + checkpoint.seq()
            + " has a signature that does not verify with "
            + key
            + " (forged, or signed by another key): nothing after seq "
            + lastValid
            + " is vouched for");
  }

  private void fail(Failure failure) {
    Failure first = failure;
    if (!pendingForgeries.isEmpty() && pendingForgeries.firstKey() < failure.seq()) {
      // a forgery waiting for its acknowledgement is unconfirmed, and it came first
      first = pendingForgeries.firstEntry().getValue().failure();
    }
    firstInvalidSeq = first.seq();
    reason = first.reason();
  }
}
