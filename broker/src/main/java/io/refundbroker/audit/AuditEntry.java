package io.refundbroker.audit;

import io.refundbroker.caller.Actor;
import io.refundbroker.db.TimeOrderedIds;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.UUID;

/**
 * An audit event as the broker appends it, before the sequencer gives it a place in the chain: a
 * unique {@code eventId}, the content, and the {@link AuditMac} over exactly that content. The MAC
 * covers what the broker knows when it appends (never the chain position, assigned later), so it
 * can be computed inside the change's transaction without any lock.
 *
 * <p>Events appended before the sequencer existed (schema V10) are <em>legacy</em>: no {@code
 * eventId} and no {@code mac}; their chain hash is computed the old way (see {@link
 * ChainedEvent#computeHash()}).
 *
 * @param eventId the broker-generated id (null for legacy events)
 * @param mac 64 hex digits of HMAC-SHA256 over {@link #canonical()} (null for legacy events)
 */
public record AuditEntry(
    UUID eventId,
    Instant occurredAt,
    Actor actor,
    String action,
    String subjectType,
    String subjectId,
    String chainId,
    String outcome,
    String requestId,
    JsonObject details,
    String mac) {

  /** Identifies what an entry's canonical content (and so its MAC) is about. */
  public static final String CONTENT_TYPE = "refund-broker.audit.event.v2";

  public AuditEntry {
    Objects.requireNonNull(occurredAt, "occurredAt");
    Objects.requireNonNull(actor, "actor");
    Objects.requireNonNull(details, "details");
    occurredAt = occurredAt.truncatedTo(ChronoUnit.MICROS);
    if ((eventId == null) != (mac == null)) {
      throw new IllegalArgumentException(
          "an audit event has both an eventId and a mac, or neither");
    }
  }

  /**
   * The entry the broker appends for {@code event}: a fresh event id (time-ordered: {@link
   * TimeOrderedIds}) and the MAC of its content.
   */
  public static AuditEntry create(
      Instant occurredAt, Actor actor, String requestId, AuditEvent event, AuditMac mac) {
    return create(TimeOrderedIds.at(occurredAt), occurredAt, actor, requestId, event, mac);
  }

  /** Like {@link #create(Instant, Actor, String, AuditEvent, AuditMac)} with a given event id. */
  public static AuditEntry create(
      UUID eventId,
      Instant occurredAt,
      Actor actor,
      String requestId,
      AuditEvent event,
      AuditMac mac) {
    AuditEntry unsigned =
        new AuditEntry(
            eventId,
            occurredAt,
            actor,
            event.action(),
            event.subjectType(),
            event.subjectId(),
            event.chainId(),
            event.outcome(),
            requestId,
            event.details(),
            "0".repeat(64));
    return unsigned.withMac(mac.mac(unsigned.canonical()));
  }

  /** An event appended before MACs existed (read back from the trail or an export). */
  public static AuditEntry legacy(
      Instant occurredAt,
      Actor actor,
      String action,
      String subjectType,
      String subjectId,
      String chainId,
      String outcome,
      String requestId,
      JsonObject details) {
    return new AuditEntry(
        null,
        occurredAt,
        actor,
        action,
        subjectType,
        subjectId,
        chainId,
        outcome,
        requestId,
        details,
        null);
  }

  /** True for events appended before schema V10 (no event id, no MAC). */
  public boolean legacy() {
    return mac == null;
  }

  /**
   * What the MAC and the entry hash cover, in the canonical JSON shape: {@code type}, {@code
   * eventId}, {@code occurredAt}, {@code actor}, {@code action}, {@code subject}, {@code chainId},
   * {@code outcome}, {@code requestId}, {@code details}.
   */
  public JsonObject content() {
    JsonObject content = new JsonObject();
    if (!legacy()) {
      content.put("type", CONTENT_TYPE).put("eventId", eventId.toString());
    }
    return content
        .put("occurredAt", ChainedEvent.formatTime(occurredAt))
        .put(
            "actor",
            new JsonObject()
                .put("clientId", actor.clientId())
                .put("role", actor.role())
                .put("storeId", actor.storeId()))
        .put("action", action)
        .put("subject", new JsonObject().put("type", subjectType).put("id", subjectId))
        .put("chainId", chainId)
        .put("outcome", outcome)
        .put("requestId", requestId)
        .put("details", details);
  }

  /** The canonical JSON of {@link #content()}: the exact text the MAC is computed over. */
  public String canonical() {
    return CanonicalJson.encode(content());
  }

  /** {@code SHA-256(canonical())} in hex: what the chain hash of a non-legacy event covers. */
  public String entryHash() {
    return ChainedEvent.sha256Hex(canonical());
  }

  public AuditEntry withMac(String newMac) {
    return new AuditEntry(
        eventId,
        occurredAt,
        actor,
        action,
        subjectType,
        subjectId,
        chainId,
        outcome,
        requestId,
        details,
        newMac);
  }
}
