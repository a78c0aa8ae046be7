package io.refundbroker.audit;

import io.refundbroker.caller.Actor;
import io.refundbroker.caller.Caller;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Appends events to the audit trail, always inside the caller's transaction: the event commits with
 * the change it records or not at all, and a failed append fails the change (no audit row, no
 * change).
 *
 * <p>An append is one {@code INSERT} into {@code audit_entries} of the event with its id, content,
 * entry hash and {@link AuditMac MAC}; it takes no lock, so appenders never wait for each other.
 * The {@link AuditSequencer} gives committed events their place in the chain (seq, prevHash, hash)
 * moments later.
 */
public class AuditLog {
  private static final String INSERT_ENTRY =
      """
      INSERT INTO audit_entries (event_id, occurred_at, actor_client_id, actor_role, actor_store_id,
                                 action, subject_type, subject_id, chain_id, outcome, request_id,
                                 details, entry_hash, mac)
      VALUES (#{eventId}, #{occurredAt}, #{actorClientId}, #{actorRole}, #{actorStoreId},
              #{action}, #{subjectType}, #{subjectId}, #{chainId}, #{outcome}, #{requestId},
              #{details}, #{entryHash}, #{mac})
      """;

  private final Clock clock;
  private final AuditMacKey mac;

  public AuditLog(Clock clock, AuditMac mac) {
    this(clock, AuditMacKey.of(mac));
  }

  /**
   * An audit log whose MAC key is loaded when first needed (the credential backend that keeps it
   * needs this log itself): appends wait for it, and fail — failing the change they record — while
   * it cannot be loaded.
   */
  public AuditLog(Clock clock, AuditMacKey mac) {
    this.clock = clock;
    this.mac = mac;
  }

  /**
   * Appends {@code event} on behalf of {@code caller} in {@code tx} and returns {@code change}, the
   * change the event records: {@code audit.record(tx, caller, event, store)} ends a write that must
   * not commit without its audit row.
   *
   * @return {@code change}; fails like {@link #append}
   */
  public <T> Future<T> record(SqlConnection tx, Caller caller, AuditEvent event, T change) {
    return record(tx, caller.actor(), caller.requestId(), event, change);
  }

  /** {@link #record(SqlConnection, Caller, AuditEvent, Object)} for an actor without a caller. */
  public <T> Future<T> record(
      SqlConnection tx, Actor actor, String requestId, AuditEvent event, T change) {
    return append(tx, actor, requestId, event).map(entry -> change);
  }

  /**
   * Appends {@code event} in the transaction of {@code tx}.
   *
   * @return the appended entry (not yet linked into the chain); fails (and so must fail the
   *     transaction) when the insert is refused
   */
  public Future<AuditEntry> append(
      SqlConnection tx, Actor actor, String requestId, AuditEvent event) {
    return mac.get()
        .compose(
            key -> {
              AuditEntry entry = AuditEntry.create(clock.instant(), actor, requestId, event, key);
              return SqlTemplate.forUpdate(tx, INSERT_ENTRY)
                  .execute(parameters(entry))
                  .map(done -> entry);
            });
  }

  /**
   * An event sealed for an append that a SQL function makes (V12's {@code refund_write_ahead},
   * {@code refund_record_outcome}): its {@code audit_entries} columns, in the order of {@link
   * #INSERT_ENTRY}'s column list, MACed here so the database never sees the key. The function
   * inserts it in the transaction of the change it records, as {@link #append} would.
   */
  public static final class Sealed {
    /** How many values {@link #values()} has (also for {@link #none()}). */
    public static final int COLUMNS = 14;

    private final List<Object> values;

    private Sealed(List<Object> values) {
      this.values = values;
    }

    /** No event (the function appends none): {@link #COLUMNS} nulls. */
    public static Sealed none() {
      return new Sealed(java.util.Collections.nCopies(COLUMNS, null));
    }

    /** The column values, {@code event_id} first, {@code mac} last. */
    public List<Object> values() {
      return values;
    }
  }

  /**
   * {@code event} on behalf of {@code actor}, with a fresh id, the current time and its MAC, for a
   * SQL function to append (see {@link Sealed}); fails while the MAC key cannot be loaded.
   */
  public Future<Sealed> seal(Actor actor, String requestId, AuditEvent event) {
    return mac.get()
        .map(
            key -> {
              AuditEntry e = AuditEntry.create(clock.instant(), actor, requestId, event, key);
              return new Sealed(
                  Arrays.asList(
                      e.eventId(),
                      e.occurredAt().atOffset(ZoneOffset.UTC),
                      e.actor().clientId(),
                      e.actor().role(),
                      e.actor().storeId(),
                      e.action(),
                      e.subjectType(),
                      e.subjectId(),
                      e.chainId(),
                      e.outcome(),
                      e.requestId(),
                      e.details(),
                      e.entryHash(),
                      e.mac()));
            });
  }

  private static Map<String, Object> parameters(AuditEntry e) {
    Map<String, Object> p = new HashMap<>();
    p.put("eventId", e.eventId());
    p.put("occurredAt", e.occurredAt().atOffset(ZoneOffset.UTC));
    p.put("actorClientId", e.actor().clientId());
    p.put("actorRole", e.actor().role());
    p.put("actorStoreId", e.actor().storeId());
    p.put("action", e.action());
    p.put("subjectType", e.subjectType());
    p.put("subjectId", e.subjectId());
    p.put("chainId", e.chainId());
    p.put("outcome", e.outcome());
    p.put("requestId", e.requestId());
    p.put("details", e.details());
    p.put("entryHash", e.entryHash());
    p.put("mac", e.mac());
    return p;
  }

  /**
   * Reads a stored row back into an entry: columns {@code event_id, occurred_at, actor_*, action,
   * subject_type, subject_id, chain_id, outcome, request_id, details, mac}. A row without a MAC is
   * a legacy event (its generated id is not part of what its hash covers).
   */
  public static AuditEntry entryFromRow(Row row, JsonObject details) {
    String storedMac = row.getString("mac");
    UUID eventId = storedMac == null ? null : row.getUUID("event_id");
    return new AuditEntry(
        eventId,
        row.getOffsetDateTime("occurred_at").toInstant(),
        new Actor(
            row.getString("actor_client_id"),
            row.getString("actor_role"),
            row.getString("actor_store_id")),
        row.getString("action"),
        row.getString("subject_type"),
        row.getString("subject_id"),
        row.getString("chain_id"),
        row.getString("outcome"),
        row.getString("request_id"),
        details,
        storedMac);
  }

  /** Reads a linked row back (entry columns plus {@code seq, prev_hash, hash}). */
  public static ChainedEvent fromRow(Row row) {
    Object details = row.getValue("details");
    if (!(details instanceof JsonObject json)) {
      throw new IllegalStateException(
          "audit event " + row.getLong("seq") + " has details that are not a JSON object");
    }
    return fromRow(row, json);
  }

  /** Reads a linked row back with {@code details} supplied by the caller. */
  public static ChainedEvent fromRow(Row row, JsonObject details) {
    return new ChainedEvent(
        row.getLong("seq"),
        entryFromRow(row, details),
        row.getString("prev_hash"),
        row.getString("hash"));
  }
}
