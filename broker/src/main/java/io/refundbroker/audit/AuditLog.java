package io.refundbroker.audit;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;

/**
 * Appends events to the hash-chained audit trail, always inside the caller's transaction: the event
 * commits with the change it records or not at all, and a failed append fails the change.
 *
 * <p>Appenders are serialised by {@code audit_lock_head()} (a transaction-scoped advisory lock),
 * which also returns the current head; the table's trigger refuses any row that does not continue
 * the chain, so even a buggy caller cannot fork it.
 */
public class AuditLog {
  private static final String LOCK_HEAD =
      """
      SELECT head_seq, head_hash FROM audit_lock_head()
      """;
  private static final String INSERT_EVENT =
      """
      INSERT INTO audit_events (seq, occurred_at, actor_client_id, actor_role, actor_store_id,
                                action, subject_type, subject_id, chain_id, outcome, request_id,
                                details, prev_hash, hash)
      VALUES (#{seq}, #{occurredAt}, #{actorClientId}, #{actorRole}, #{actorStoreId},
              #{action}, #{subjectType}, #{subjectId}, #{chainId}, #{outcome}, #{requestId},
              #{details}, #{prevHash}, #{hash})
      """;

  private final Clock clock;

  public AuditLog(Clock clock) {
    this.clock = clock;
  }

  /**
   * Appends {@code event} in the transaction of {@code tx}. Call it last in the transaction, just
   * before commit: the chain head stays locked until the transaction ends.
   *
   * @return the appended event with its sequence number and hash; fails (and so must fail the
   *     transaction) when the append is refused
   */
  public Future<ChainedEvent> append(
      SqlConnection tx, Actor actor, String requestId, AuditEvent event) {
    return tx.preparedQuery(LOCK_HEAD)
        .execute()
        .compose(
            rows -> {
              Row head = rows.iterator().next();
              ChainedEvent chained =
                  ChainedEvent.chain(
                      head.getLong("head_seq") + 1,
                      clock.instant(),
                      actor,
                      requestId,
                      event,
                      head.getString("head_hash"));
              return SqlTemplate.forUpdate(tx, INSERT_EVENT)
                  .execute(parameters(chained))
                  .map(done -> chained);
            });
  }

  private static Map<String, Object> parameters(ChainedEvent e) {
    Map<String, Object> p = new HashMap<>();
    p.put("seq", e.seq());
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
    p.put("prevHash", e.prevHash());
    p.put("hash", e.hash());
    return p;
  }

  /** Reads a stored row back into an event (for verification and export). */
  public static ChainedEvent fromRow(Row row) {
    Object details = row.getValue("details");
    if (!(details instanceof JsonObject json)) {
      throw new IllegalStateException(
          "audit event " + row.getLong("seq") + " has details that are not a JSON object");
    }
    return fromRow(row, json);
  }

  /** Reads a stored row back with {@code details} supplied by the caller. */
  public static ChainedEvent fromRow(Row row, JsonObject details) {
    return new ChainedEvent(
        row.getLong("seq"),
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
        row.getString("prev_hash"),
        row.getString("hash"));
  }
}
