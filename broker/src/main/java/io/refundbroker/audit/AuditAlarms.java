package io.refundbroker.audit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.refundbroker.caller.Actor;
import io.refundbroker.db.Transactions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raises the alarm when the checkpointer finds an event it must not sign over (forged: no valid
 * MAC; or tampered: its hash or link is wrong): an ERROR log line, the Prometheus counter {@code
 * audit_alarms_total}, and an {@code audit.alarm} event in the trail naming the seq and why. Each
 * instance raises it once per bad event (the checkpointer finds the same one every round until an
 * operator acts). Nothing it logs or records contains a secret.
 *
 * <p>Thread-safe: the set of events already alarmed on is concurrent.
 */
public final class AuditAlarms {
  /** The action of the event an alarm appends. */
  public static final String ALARM = "audit.alarm";

  private static final Logger LOG = LoggerFactory.getLogger(AuditAlarms.class);

  private final Pool pool;
  private final AuditLog audit;
  private final Counter raised;
  private final Set<Long> alarmed = ConcurrentHashMap.newKeySet();

  public AuditAlarms(Pool pool, AuditLog audit, MeterRegistry registry) {
    this.pool = pool;
    this.audit = audit;
    this.raised =
        Counter.builder("audit.alarms")
            .description(
                "Events the checkpointer refused to sign over (forged or tampered), once per"
                    + " event and instance")
            .register(registry);
  }

  /**
   * Raises the alarm for the event at {@code seq}, unless this instance already did.
   *
   * @return completes when the {@code audit.alarm} event is appended; fails when it cannot be (the
   *     log line and the counter are there regardless)
   */
  public Future<Void> raise(long seq, String reason) {
    if (!alarmed.add(seq)) {
      return Future.succeededFuture();
    }
    LOG.atError()
        .setMessage(
            "AUDIT ALARM: the audit trail holds an event the broker did not append as stored;"
                + " checkpoints stop before it until an operator acknowledges it")
        .addKeyValue("seq", seq)
        .addKeyValue("reason", reason)
        .log();
    raised.increment();
    AuditEvent event =
        new AuditEvent(
            ALARM,
            "audit-event",
            Long.toString(seq),
            null,
            "ALARM",
            new JsonObject().put("seq", seq).put("reason", reason));
    return Transactions.run(pool, tx -> audit.append(tx, Actor.system("checkpointer"), null, event))
        .mapEmpty();
  }
}
