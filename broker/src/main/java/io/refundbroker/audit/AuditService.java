package io.refundbroker.audit;

import io.refundbroker.audit.RefundLogRepository.ClearingLine;
import io.refundbroker.audit.signing.CheckpointKey;
import io.refundbroker.audit.signing.CheckpointSigner;
import io.refundbroker.caller.Caller;
import io.refundbroker.db.Transactions;
import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What auditors read: the refund log, the raw hash-chained events, the signed checkpoints, the
 * public key, a verification of the whole trail and the monthly clearing statement; and the
 * operator's acknowledgement of a forged event.
 *
 * <p>Every read is itself audited: an {@code audit.read} event (details: which resource, the
 * filters, the format, and what was found) is appended <em>before</em> any data leaves the broker,
 * so an auditor cannot read without leaving a trace; if the append fails, the read fails.
 *
 * <p>Auditors see the chain: events the sequencer has linked, by seq. An event committed moments
 * ago may not be linked yet (the sequencer links within {@code AUDIT_SEQUENCER_INTERVAL}); it is
 * listed as soon as it is, and the verification reports how many are waiting ({@code
 * unlinkedEvents}) and since when.
 */
public final class AuditService {
  private static final Logger LOG = LoggerFactory.getLogger(AuditService.class);
  static final String READ = "audit.read";

  /** Rows per keyset batch when streaming or verifying. */
  static final int BATCH = 2000;

  private final Pool pool;
  private final AuditLog audit;
  private final AuditTrailRepository trail;
  private final RefundLogRepository refunds;
  private final CheckpointSigner signer;
  private final AuditMacKey mac;
  private final WorkerExecutor worker;

  /**
   * @param worker a bounded executor for the CPU-heavy part of verification (hashing), so a large
   *     trail never holds an event loop
   */
  public AuditService(
      Pool pool,
      AuditLog audit,
      AuditTrailRepository trail,
      RefundLogRepository refunds,
      CheckpointSigner signer,
      AuditMacKey mac,
      WorkerExecutor worker) {
    this.pool = pool;
    this.audit = audit;
    this.trail = trail;
    this.refunds = refunds;
    this.signer = signer;
    this.mac = mac;
    this.worker = worker;
  }

  /** A page of the refund log and the cursor of the next page (null on the last page). */
  public record RefundPage(List<RefundLogEntry> refunds, String nextCursor) {}

  /** A page of events or checkpoints and the seq to continue after (null on the last page). */
  public record Page<T>(List<T> items, Long nextAfterSeq) {}

  /** The clearing statement of one chain for one UTC month. */
  public record Clearing(String chainId, YearMonth month, List<ClearingLine> lines) {
    public OffsetDateTime from() {
      return month.atDay(1).atStartOfDay().atOffset(ZoneOffset.UTC);
    }

    public OffsetDateTime to() {
      return month.plusMonths(1).atDay(1).atStartOfDay().atOffset(ZoneOffset.UTC);
    }
  }

  /** One page of the refund log; audited. */
  public Future<RefundPage> refunds(Caller caller, RefundQuery query) {
    return Transactions.run(
        pool,
        tx ->
            refunds
                .page(tx, query)
                .compose(
                    rows -> {
                      boolean more = rows.size() > query.limit();
                      List<RefundLogEntry> page = more ? rows.subList(0, query.limit()) : rows;
                      String next =
                          more
                              ? new RefundQuery.Position(
                                      page.get(page.size() - 1).createdAt(),
                                      java.util.UUID.fromString(
                                          page.get(page.size() - 1).refundId()))
                                  .encode()
                              : null;
                      JsonObject details =
                          read("refunds", "json")
                              .put("filters", query.filters())
                              .put("limit", query.limit())
                              .put("returned", page.size());
                      return audited(tx, caller, "refunds", query.chainId(), details)
                          .map(new RefundPage(List.copyOf(page), next));
                    }));
  }

  /**
   * Streams every refund matching {@code query} to {@code sink} in batches (one consistent
   * snapshot); audited before the first row is read.
   *
   * @return the number of rows sent; fails with the first database or sink failure
   */
  public Future<Long> exportRefunds(
      Caller caller, RefundQuery query, Function<List<RefundLogEntry>, Future<Void>> sink) {
    JsonObject details = read("refunds", "csv").put("filters", query.filters());
    return Transactions.run(pool, tx -> audited(tx, caller, "refunds", query.chainId(), details))
        .compose(event -> Transactions.run(pool, tx -> refunds.stream(tx, query, BATCH, sink)));
  }

  /** Events after {@code afterSeq}, at most {@code limit}; audited. */
  public Future<Page<ChainedEvent>> events(Caller caller, long afterSeq, int limit) {
    return auditedPage(
        caller,
        "events",
        afterSeq,
        limit,
        tx -> trail.eventsAfter(tx, afterSeq, Long.MAX_VALUE, limit + 1),
        ChainedEvent::seq);
  }

  /**
   * One page of {@code what} read with {@code fetch} (which asks for {@code limit + 1} rows to know
   * whether more follow), audited in the same transaction.
   */
  private <T> Future<Page<T>> auditedPage(
      Caller caller,
      String what,
      long afterSeq,
      int limit,
      Function<SqlConnection, Future<List<T>>> fetch,
      ToLongFunction<T> seq) {
    return Transactions.run(
        pool,
        tx ->
            fetch
                .apply(tx)
                .compose(rows -> auditPage(tx, caller, what, afterSeq, limit, rows, seq)));
  }

  private <T> Future<Page<T>> auditPage(
      SqlConnection tx,
      Caller caller,
      String what,
      long afterSeq,
      int limit,
      List<T> rows,
      ToLongFunction<T> seq) {
    JsonObject details =
        read(what, "json")
            .put("afterSeq", afterSeq)
            .put("limit", limit)
            .put("returned", Math.min(rows.size(), limit));
    return audited(tx, caller, what, null, details).map(event -> page(rows, limit, seq));
  }

  /**
   * Streams the linked events after {@code afterSeq} (at most {@code limit}, or all when null) to
   * {@code sink} in keyset batches, up to the head as it was when the export was asked for. Audited
   * before the first event is read; that {@code audit.read} event is linked after this head, so it
   * opens the next export.
   *
   * @return the number of events sent
   */
  public Future<Long> exportEvents(
      Caller caller, long afterSeq, Long limit, Function<List<ChainedEvent>, Future<Void>> sink) {
    JsonObject details = read("events", "jsonl").put("afterSeq", afterSeq).put("limit", limit);
    long max = limit == null ? Long.MAX_VALUE : limit;
    return trail
        .head(pool)
        .compose(
            head ->
                Transactions.run(pool, tx -> audited(tx, caller, "events", null, details))
                    .compose(event -> streamEvents(afterSeq, head.seq(), max, sink)));
  }

  /** Where a keyset stream stands: after which seq, how many sent, whether it is done. */
  private record Progress(long afterSeq, long sent, boolean done) {}

  private Future<Long> streamEvents(
      long afterSeq, long throughSeq, long max, Function<List<ChainedEvent>, Future<Void>> sink) {
    return AsyncLoop.until(
            new Progress(afterSeq, 0, max <= 0),
            Progress::done,
            at -> {
              int batch = (int) Math.min(BATCH, max - at.sent());
              return trail
                  .eventsAfter(pool, at.afterSeq(), throughSeq, batch)
                  .compose(events -> send(events, batch, at, ChainedEvent::seq, sink))
                  .map(
                      next ->
                          next.sent() >= max
                              ? new Progress(next.afterSeq(), next.sent(), true)
                              : next);
            })
        .map(Progress::sent);
  }

  /**
   * Hands a batch to the sink; the next cursor is computed before, so no closure keeps the rows.
   */
  private static <T> Future<Progress> send(
      List<T> items,
      int batch,
      Progress at,
      ToLongFunction<T> seq,
      Function<List<T>, Future<Void>> sink) {
    if (items.isEmpty()) {
      return Future.succeededFuture(new Progress(at.afterSeq(), at.sent(), true));
    }
    Progress next =
        new Progress(
            seq.applyAsLong(items.get(items.size() - 1)),
            at.sent() + items.size(),
            items.size() < batch);
    return sink.apply(items).map(done -> next);
  }

  /** Checkpoints after {@code afterSeq}, at most {@code limit}; audited. */
  public Future<Page<Checkpoint>> checkpoints(Caller caller, long afterSeq, int limit) {
    return auditedPage(
        caller,
        "checkpoints",
        afterSeq,
        limit,
        tx -> trail.checkpointsAfter(tx, afterSeq, Long.MAX_VALUE, limit + 1),
        Checkpoint::seq);
  }

  /**
   * Streams every checkpoint after {@code afterSeq} to {@code sink}; audited first.
   *
   * @return the number of checkpoints sent
   */
  public Future<Long> exportCheckpoints(
      Caller caller, long afterSeq, Function<List<Checkpoint>, Future<Void>> sink) {
    JsonObject details = read("checkpoints", "jsonl").put("afterSeq", afterSeq);
    return Transactions.run(pool, tx -> audited(tx, caller, "checkpoints", null, details))
        .compose(event -> streamCheckpoints(afterSeq, sink));
  }

  private Future<Long> streamCheckpoints(
      long afterSeq, Function<List<Checkpoint>, Future<Void>> sink) {
    return AsyncLoop.until(
            new Progress(afterSeq, 0, false),
            Progress::done,
            at ->
                trail
                    .checkpointsAfter(pool, at.afterSeq(), Long.MAX_VALUE, BATCH)
                    .compose(batch -> send(batch, BATCH, at, Checkpoint::seq, sink)))
        .map(Progress::sent);
  }

  /** The current version of the checkpoint signer's key; audited. */
  public Future<CheckpointKey> publicKey(Caller caller) {
    return signer
        .currentKey()
        .compose(
            key ->
                Transactions.run(
                        pool,
                        tx ->
                            audited(
                                tx,
                                caller,
                                "public-key",
                                null,
                                read("public-key", "pem")
                                    .put("keyId", key.keyId())
                                    .put("keyVersion", key.keyVersion())))
                    .map(event -> key));
  }

  /**
   * One published key version: the key, whether it signs now, and which checkpoints it signed
   * ({@code firstCheckpointSeq}/{@code lastCheckpointSeq} null when none yet).
   */
  public record PublishedKey(
      CheckpointKey key,
      boolean current,
      Long firstCheckpointSeq,
      Long lastCheckpointSeq,
      long checkpoints) {

    /** One entry of {@code GET /v1/audit/public-keys}, as {@link CheckpointKeys} reads it back. */
    public JsonObject toJson() {
      return new JsonObject()
          .put("keyId", key.keyId())
          .put("keyVersion", key.keyVersion())
          .put("algorithm", Checkpoint.ALGORITHM)
          .put("fingerprint", key.publicKey().fingerprint())
          .put("publicKeyPem", key.publicKey().pem())
          .put("current", current)
          .put("firstCheckpointSeq", firstCheckpointSeq)
          .put("lastCheckpointSeq", lastCheckpointSeq)
          .put("checkpoints", checkpoints);
    }
  }

  /**
   * Every key version the signer has signed with or signs with now, oldest first, with the
   * checkpoints each signed; audited. This is the key set auditors keep for offline verification.
   *
   * @return the keys; fails when the signer's keys or the database cannot be read
   */
  public Future<List<PublishedKey>> publicKeys(Caller caller) {
    return signer
        .publicKeys()
        .compose(keys -> Transactions.run(pool, tx -> publishedAndAudited(tx, caller, keys)));
  }

  private Future<List<PublishedKey>> publishedAndAudited(
      SqlConnection tx, Caller caller, List<CheckpointKey> keys) {
    return trail
        .keyUsage(tx)
        .map(usage -> published(keys, usage))
        .compose(
            list ->
                audited(
                        tx,
                        caller,
                        "public-keys",
                        null,
                        read("public-keys", "json").put("returned", list.size()))
                    .map(event -> list));
  }

  private static List<PublishedKey> published(
      List<CheckpointKey> keys, List<AuditTrailRepository.KeyUsage> usage) {
    List<PublishedKey> list = new java.util.ArrayList<>(keys.size());
    for (int i = 0; i < keys.size(); i++) {
      CheckpointKey key = keys.get(i);
      Long first = null;
      Long last = null;
      long count = 0;
      for (AuditTrailRepository.KeyUsage u : usage) {
        if (signedBy(u, key)) {
          first = first == null ? u.firstSeq() : Math.min(first, u.firstSeq());
          last = last == null ? u.lastSeq() : Math.max(last, u.lastSeq());
          count += u.checkpoints();
        }
      }
      list.add(new PublishedKey(key, i == keys.size() - 1, first, last, count));
    }
    return list;
  }

  /**
   * Whether {@code key} signed the checkpoints of {@code usage}. Checkpoints made before versions
   * were recorded carry none; a key file's were named {@code local:<fingerprint prefix>}, which
   * still identifies the key. A Transit key's unversioned checkpoints cannot be attributed to a
   * version (they verify with any version, see {@link AuditVerifier}).
   */
  private static boolean signedBy(AuditTrailRepository.KeyUsage usage, CheckpointKey key) {
    if (usage.keyVersion() != null) {
      return key.names(usage.keyId(), usage.keyVersion());
    }
    String fingerprint = key.publicKey().fingerprint();
    return usage.keyId().startsWith(key.keyId() + ":")
        && fingerprint.startsWith(usage.keyId().substring(key.keyId().length() + 1));
  }

  /**
   * Verifies the whole trail as stored: reads the checkpoints, then streams the linked events up to
   * the head in keyset batches through {@link AuditVerifier}, each checkpoint checked with the
   * signer's key version it names and every MAC checked (hashing on the worker executor), and
   * counts the committed events not linked yet. Audited with the verdict; a trail found invalid is
   * also logged as an error for alerting.
   *
   * @return the verdict; fails when the database, the signer or the audit append fails
   */
  public Future<AuditVerifier.Result> verify(Caller caller) {
    return signer
        .publicKeys()
        .map(CheckpointKeys::of)
        .compose(keys -> allCheckpoints().map(signed -> new AuditVerifier(signed, keys)))
        .compose(this::verifyLinked)
        .compose(result -> recordVerification(caller, result));
  }

  /**
   * Reads the head and the unlinked events (in one snapshot), then the acknowledgements (so every
   * one linked up to the head is known), and streams the linked events through {@code verifier}.
   */
  private Future<AuditVerifier.Result> verifyLinked(AuditVerifier verifier) {
    return trail.span(pool).compose(span -> verifyUpTo(verifier, span));
  }

  private Future<AuditVerifier.Result> verifyUpTo(
      AuditVerifier verifier, AuditTrailRepository.Span span) {
    return mac.get()
        .compose(key -> trail.acknowledgements(pool, 0).map(acks -> verifier.withMac(key, acks)))
        .compose(withMac -> verifyEvents(withMac, span.head().seq()))
        .map(result -> result.withUnlinked(span.unlinked(), span.oldestUnlinked()));
  }

  private Future<List<Checkpoint>> allCheckpoints() {
    List<Checkpoint> all = new java.util.ArrayList<>();
    return streamCheckpoints(
            0,
            batch -> {
              all.addAll(batch);
              return Future.succeededFuture();
            })
        .map(count -> all);
  }

  /** Streams the events up to {@code headSeq} through the verifier, hashing on the worker. */
  private Future<AuditVerifier.Result> verifyEvents(AuditVerifier verifier, long headSeq) {
    return AsyncLoop.until(
            new Progress(0, 0, false), Progress::done, at -> checkNext(verifier, at, headSeq))
        .compose(end -> worker.executeBlocking(verifier::finish, true));
  }

  /** Reads the next batch up to {@code headSeq} and checks it. */
  private Future<Progress> checkNext(AuditVerifier verifier, Progress at, long headSeq) {
    return trail
        .eventsAfter(pool, at.afterSeq(), headSeq, BATCH)
        .compose(
            batch -> send(batch, BATCH, at, ChainedEvent::seq, events -> check(verifier, events)));
  }

  /** Hashes and checks a batch of events on the worker, in order. */
  private Future<Void> check(AuditVerifier verifier, List<ChainedEvent> events) {
    return worker.executeBlocking(
        () -> {
          events.forEach(verifier::accept);
          return null;
        },
        true);
  }

  private Future<AuditVerifier.Result> recordVerification(
      Caller caller, AuditVerifier.Result result) {
    JsonObject details =
        read("verify", "json")
            .put("valid", result.valid())
            .put("checkedEvents", result.checkedEvents())
            .put("headSeq", result.headSeq())
            .put("headHash", result.headHash())
            .put("lastValidCheckpointSeq", result.lastValidCheckpointSeq())
            .put("unlinkedEvents", result.unlinkedEvents());
    if (!result.acknowledgedForgeries().isEmpty()) {
      details.put(
          "acknowledgedForgeries",
          new io.vertx.core.json.JsonArray(
              new java.util.ArrayList<Object>(result.acknowledgedForgeries())));
    }
    if (result.uncheckedCheckpoints() > 0) {
      details.put("uncheckedCheckpoints", result.uncheckedCheckpoints());
    }
    if (result.unverifiable()) {
      details.put("reason", result.reason());
      LOG.atError()
          .setMessage("audit trail verification could not check every checkpoint")
          .addKeyValue("firstUncheckedSeq", result.firstUnchecked().seq())
          .addKeyValue("keyVersion", result.firstUnchecked().keyVersion())
          .addKeyValue("requestId", caller.requestId())
          .log();
    } else if (!result.valid()) {
      details.put("firstInvalidSeq", result.firstInvalidSeq()).put("reason", result.reason());
      LOG.atError()
          .setMessage("audit trail verification FAILED")
          .addKeyValue("firstInvalidSeq", result.firstInvalidSeq())
          .addKeyValue("reason", result.reason())
          .addKeyValue("requestId", caller.requestId())
          .log();
    }
    AuditEvent event =
        new AuditEvent(
            READ,
            "audit",
            "verify",
            null,
            result.valid() ? "SUCCESS" : result.unverifiable() ? "UNVERIFIED" : "INVALID",
            details);
    return Transactions.run(pool, tx -> audit.append(tx, caller.actor(), caller.requestId(), event))
        .map(appended -> result);
  }

  /** An operator's acknowledgement of a forged event: the event named and the one recording it. */
  public record Acknowledged(long seq, String hash, UUID acknowledgementEventId) {}

  /**
   * Records that the linked event at {@code seq} is a forgery the operator knows about, with an
   * {@value AuditVerifier#ACKNOWLEDGED} event naming its seq and hash and the operator's reason.
   * The checkpointer then signs past it (every checkpoint that covers it also covers this
   * acknowledgement), and verification lists it in {@code acknowledgedForgeries} instead of
   * stopping there. The forged event itself stays in the trail, as everything does.
   *
   * @return what was recorded; fails with 404 {@code AUDIT_EVENT_NOT_FOUND} when no event is linked
   *     at {@code seq}, 409 {@code AUDIT_EVENT_GENUINE} when the broker appended it (valid MAC),
   *     409 {@code AUDIT_EVENT_TAMPERED} when it no longer matches its hash (an acknowledgement
   *     cannot account for that)
   */
  public Future<Acknowledged> acknowledgeForgery(Caller caller, long seq, String reason) {
    return Transactions.run(
        pool,
        tx ->
            trail
                .eventsAfter(tx, seq - 1, seq, 1)
                .compose(found -> forged(tx, seq, found))
                .compose(event -> acknowledge(tx, caller, seq, event, reason)));
  }

  private Future<Acknowledged> acknowledge(
      SqlConnection tx, Caller caller, long seq, ChainedEvent event, String reason) {
    AuditEvent acknowledgement =
        new AuditEvent(
            AuditVerifier.ACKNOWLEDGED,
            "audit-event",
            Long.toString(seq),
            null,
            "SUCCESS",
            new JsonObject().put("seq", seq).put("hash", event.hash()).put("reason", reason));
    return audit
        .append(tx, caller.actor(), caller.requestId(), acknowledgement)
        .map(entry -> new Acknowledged(seq, event.hash(), entry.eventId()));
  }

  /** The event at {@code seq} if it is one the broker did not append; a problem otherwise. */
  private Future<ChainedEvent> forged(SqlConnection tx, long seq, List<ChainedEvent> found) {
    if (found.isEmpty()) {
      return Future.failedFuture(
          ProblemException.notFound(
              "AUDIT_EVENT_NOT_FOUND",
              "No audit event is linked at seq " + seq + "; see GET /v1/audit/verify."));
    }
    ChainedEvent event = found.get(0);
    if (!event.computeHash().equals(event.hash())) {
      return Future.failedFuture(
          ProblemException.conflict(
              "AUDIT_EVENT_TAMPERED",
              "Event "
                  + seq
                  + " no longer matches its hash: it was changed after it was linked. An"
                  + " acknowledgement cannot account for that; restore the trail from a backup"
                  + " or an export."));
    }
    Future<Boolean> forged =
        event.entry().legacy()
            ? trail.macBefore(tx, seq)
            : mac.get().map(key -> !key.verifies(event.entry()));
    return forged.compose(
        yes ->
            yes
                ? Future.succeededFuture(event)
                : Future.failedFuture(
                    ProblemException.conflict(
                        "AUDIT_EVENT_GENUINE",
                        "Event "
                            + seq
                            + " was appended by the broker (its MAC is valid); only a forged"
                            + " event can be acknowledged.")));
  }

  /**
   * The clearing statement: per (requesting store, origin store, currency) with requesting ≠
   * origin, the count and sum of SUCCEEDED refunds completed in {@code month} (UTC boundaries).
   * Audited.
   *
   * @return the statement; fails with 404 {@code CHAIN_NOT_FOUND}
   */
  public Future<Clearing> clearing(Caller caller, String chainId, YearMonth month, String format) {
    Clearing empty = new Clearing(chainId, month, List.of());
    return Transactions.run(
        pool,
        tx ->
            refunds
                .chainExists(tx, chainId)
                .compose(
                    found ->
                        found
                            ? refunds.clearing(tx, chainId, empty.from(), empty.to())
                            : Future.failedFuture(
                                ProblemException.notFound(
                                    "CHAIN_NOT_FOUND",
                                    "No chain has chainId '"
                                        + chainId
                                        + "'; see GET /v1/admin/stores for the chains.")))
                .compose(
                    lines ->
                        audited(
                                tx,
                                caller,
                                "clearing",
                                chainId,
                                read("clearing", format)
                                    .put("chainId", chainId)
                                    .put("month", month.toString())
                                    .put("lines", lines.size()))
                            .map(new Clearing(chainId, month, lines))));
  }

  private static JsonObject read(String resource, String format) {
    return new JsonObject().put("resource", resource).put("format", format);
  }

  private Future<AuditEntry> audited(
      SqlConnection tx, Caller caller, String resource, String chainId, JsonObject details) {
    return audit.append(
        tx,
        caller.actor(),
        caller.requestId(),
        AuditEvent.success(READ, "audit", resource, chainId, details));
  }

  private static <T> Page<T> page(List<T> rows, int limit, ToLongFunction<T> seq) {
    boolean more = rows.size() > limit;
    List<T> items = more ? rows.subList(0, limit) : rows;
    Long next = more ? seq.applyAsLong(items.get(items.size() - 1)) : null;
    return new Page<>(List.copyOf(items), next);
  }
}
