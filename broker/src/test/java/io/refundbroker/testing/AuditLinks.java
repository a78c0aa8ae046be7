package io.refundbroker.testing;

import java.time.Duration;

/**
 * Waits for the audit sequencer: an event commits with its change and is linked into the chain
 * (given its seq) moments later, so a test that reads events by seq first waits until every
 * committed event is linked.
 */
public final class AuditLinks {
  private static final String UNLINKED =
      "SELECT count(*) FROM audit_entries e"
          + " WHERE NOT EXISTS (SELECT 1 FROM audit_links l WHERE l.event_id = e.event_id)";

  private AuditLinks() {}

  /** Waits (at most 30 s) until every event committed so far is linked. */
  public static void await(TestDatabase database) {
    Poll.until(
        "every committed audit event linked into the chain",
        Duration.ofSeconds(30),
        () -> unlinked(database) == 0);
  }

  /** How many committed events are not linked yet. */
  public static long unlinked(TestDatabase database) {
    return database.queryLong(UNLINKED);
  }
}
