package io.refundbroker.audit;

import io.refundbroker.audit.signing.Ed25519KeyPair;
import io.refundbroker.caller.Actor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * A seeded generator of realistic audit trails: hash-chained events with varied details (commas,
 * quotes, newlines, non-ASCII text, formula-looking values, nested objects, nulls), each carrying
 * its MAC under the given MAC key as the broker appends them, and checkpoints signed with a given
 * key at irregular intervals. The same seed (and MAC key) gives the same trail.
 */
final class TrailGenerator {
  private static final String[] ACTIONS = {
    "refund.requested",
    "refund.succeeded",
    "refund.failed",
    "store.updated",
    "client.issued",
    "audit.read",
    "credentials.rotated"
  };
  private static final String[] TEXTS = {
    "plain",
    "comma, separated",
    "say \"hi\"",
    "line\nbreak",
    "Tromsø – Ærlig Å",
    "=SUM(A1:A9)",
    "+47 22 22 22 22",
    "-minus",
    "@import",
    "tab\there",
    "emoji 😀",
    "back\\slash",
    ""
  };

  private final Random random;
  private final AuditMac mac;

  TrailGenerator(long seed, AuditMac mac) {
    this.random = new Random(seed);
    this.mac = mac;
  }

  /** The MAC key the generated events carry (the broker's, when written to a broker's trail). */
  AuditMac mac() {
    return mac;
  }

  /** A genuine entry (MAC'd with {@link #mac()}) of a plausible event at {@code time}. */
  AuditEntry entry(Instant time) {
    return entry(time, event());
  }

  /** A genuine entry of {@code event} at {@code time}. */
  AuditEntry entry(Instant time, AuditEvent event) {
    return AuditEntry.create(
        new UUID(random.nextLong(), random.nextLong()), time, actor(), requestId(), event, mac);
  }

  /** A generated stretch of trail and the checkpoints over it. */
  record Trail(List<ChainedEvent> events, List<Checkpoint> checkpoints) {
    ChainedEvent head() {
      return events.get(events.size() - 1);
    }

    long firstSeq() {
      return events.get(0).seq();
    }

    long lastSeq() {
      return head().seq();
    }

    ChainedEvent at(long seq) {
      return events.get((int) (seq - firstSeq()));
    }
  }

  /**
   * {@code count} events continuing after {@code afterSeq}/{@code afterHash}, with a checkpoint
   * roughly every {@code checkpointEvery} events (never on the very last event, so the tail is
   * unsigned as in real life).
   */
  Trail generate(
      int count,
      long afterSeq,
      String afterHash,
      Instant start,
      Ed25519KeyPair key,
      String keyId,
      int checkpointEvery) {
    List<ChainedEvent> events = new ArrayList<>(count);
    List<Checkpoint> checkpoints = new ArrayList<>();
    String previous = afterHash;
    Instant time = start;
    long nextCheckpoint = afterSeq + gap(checkpointEvery);
    for (int i = 0; i < count; i++) {
      long seq = afterSeq + 1 + i;
      time = time.plusNanos(1000L * (1 + random.nextInt(5000)));
      ChainedEvent event = ChainedEvent.chain(seq, entry(time), previous);
      events.add(event);
      previous = event.hash();
      if (seq == nextCheckpoint && i < count - 1) {
        checkpoints.add(
            sign(new Checkpoint(seq, event.hash(), time.plusMillis(5), keyId, null), key));
        nextCheckpoint = seq + gap(checkpointEvery);
      }
    }
    return new Trail(events, checkpoints);
  }

  static Checkpoint sign(Checkpoint unsigned, Ed25519KeyPair key) {
    return unsigned.withSignature(key.sign(unsigned.signedMessage()));
  }

  /** A plausible event of its own (for insertions). */
  AuditEvent event() {
    String action = ACTIONS[random.nextInt(ACTIONS.length)];
    JsonObject details =
        new JsonObject()
            .put("orderId", "ORD-" + random.nextInt(1_000_000))
            .put(
                "amount",
                new JsonObject()
                    .put("value", 1 + (long) random.nextInt(65_000_000))
                    .put("currency", random.nextBoolean() ? "NOK" : "EUR"))
            .put("note", text())
            .put("attempt", random.nextInt(5))
            .put("flags", new JsonArray().add(random.nextBoolean()).add(text()).addNull())
            .put("upstreamStatus", random.nextBoolean() ? 200 : null)
            .put("big", random.nextLong());
    String outcome = random.nextInt(10) == 0 ? "FAILED" : "SUCCESS";
    return new AuditEvent(
        action,
        action.substring(0, action.indexOf('.')),
        "id-" + random.nextInt(100_000),
        random.nextInt(4) == 0 ? null : "chain-" + random.nextInt(3),
        outcome,
        details);
  }

  Actor actor() {
    return switch (random.nextInt(3)) {
      case 0 -> new Actor("cl_" + random.nextInt(1000), "STORE", "store-" + random.nextInt(20));
      case 1 -> new Actor("cl_" + random.nextInt(1000), "ADMIN", null);
      default -> Actor.system("reconciler");
    };
  }

  String requestId() {
    return random.nextInt(5) == 0 ? null : "req-" + Long.toHexString(random.nextLong());
  }

  String text() {
    return TEXTS[random.nextInt(TEXTS.length)];
  }

  private long gap(int every) {
    return Math.max(1, every / 2 + random.nextInt(Math.max(1, every)));
  }
}
