package io.refundbroker.audit;

import io.refundbroker.audit.AuditService.Clearing;
import io.refundbroker.audit.RefundLogRepository.ClearingLine;
import io.refundbroker.error.ProblemException;
import io.refundbroker.http.Api;
import io.refundbroker.http.Callers;
import io.refundbroker.http.LongAnswer;
import io.refundbroker.http.Query;
import io.refundbroker.http.Responses;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.MIMEHeader;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.validation.ValidatedRequest;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The auditor's endpoints ({@code /v1/audit/*}, role AUDITOR). JSON by default; {@code Accept:
 * text/csv} turns the refund log and the clearing statement into spreadsheet-ready CSV, and {@code
 * Accept: application/x-ndjson} turns events and checkpoints into JSON Lines for offline
 * verification. Exports are streamed in batches with back-pressure; if one breaks after the first
 * byte, the connection is reset so a truncated file is never mistaken for a complete one.
 */
public final class AuditRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(AuditRoutes.class);
  static final String JSONL = "application/x-ndjson";
  static final String PEM = "application/x-pem-file";
  private static final int DEFAULT_PAGE = 100;
  private static final int MAX_PAGE = 1000;

  private final AuditService audit;

  public AuditRoutes(AuditService audit) {
    this.audit = audit;
  }

  public void mount(Api api) {
    api.operation("listAuditRefunds", this::refunds)
        .operation("listAuditEvents", this::events)
        .operation("listAuditCheckpoints", this::checkpoints)
        .operation("getAuditPublicKey", this::publicKey)
        .operation("listAuditPublicKeys", this::publicKeys)
        .operation("verifyAuditTrail", this::verify)
        .operation("getClearingStatement", this::clearing)
        .operation("acknowledgeAuditForgery", this::acknowledgeForgery);
  }

  private enum Format {
    JSON,
    CSV,
    JSONL
  }

  private void refunds(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    Format format = format(ctx, Format.CSV);
    RefundQuery query = refundQuery(request, format);
    if (format == Format.CSV) {
      this.<RefundLogEntry>stream(
          ctx,
          Csv.CONTENT_TYPE,
          "refunds.csv",
          Csv.line(RefundLogEntry.CSV_HEADER),
          sink -> audit.exportRefunds(Callers.of(ctx), query, sink),
          entry -> Csv.line(entry.csvCells()));
      return;
    }
    audit
        .refunds(Callers.of(ctx), query)
        .onSuccess(
            page -> {
              JsonArray items = new JsonArray();
              page.refunds().forEach(entry -> items.add(entry.toJson()));
              JsonObject body = new JsonObject().put("refunds", items);
              if (page.nextCursor() != null) {
                body.put("nextCursor", page.nextCursor());
              }
              Responses.ok(ctx, body);
            })
        .onFailure(ctx::fail);
  }

  private void events(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    long afterSeq = longParam(request, "afterSeq", 0);
    if (format(ctx, Format.JSONL) == Format.JSONL) {
      Long limit = Query.longValue(request, "limit");
      this.<ChainedEvent>stream(
          ctx,
          JSONL,
          "audit-events.jsonl",
          "",
          sink -> audit.exportEvents(Callers.of(ctx), afterSeq, limit, sink),
          event -> event.toJson().encode() + "\n");
      return;
    }
    audit
        .events(Callers.of(ctx), afterSeq, pageLimit(request))
        .onSuccess(
            page -> {
              JsonArray items = new JsonArray();
              page.items().forEach(event -> items.add(event.toJson()));
              Responses.ok(
                  ctx, withNext(new JsonObject().put("events", items), page.nextAfterSeq()));
            })
        .onFailure(ctx::fail);
  }

  private void checkpoints(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    long afterSeq = longParam(request, "afterSeq", 0);
    if (format(ctx, Format.JSONL) == Format.JSONL) {
      this.<Checkpoint>stream(
          ctx,
          JSONL,
          "audit-checkpoints.jsonl",
          "",
          sink -> audit.exportCheckpoints(Callers.of(ctx), afterSeq, sink),
          checkpoint -> checkpoint.toJson().encode() + "\n");
      return;
    }
    audit
        .checkpoints(Callers.of(ctx), afterSeq, pageLimit(request))
        .onSuccess(
            page -> {
              JsonArray items = new JsonArray();
              page.items().forEach(checkpoint -> items.add(checkpoint.toJson()));
              Responses.ok(
                  ctx, withNext(new JsonObject().put("checkpoints", items), page.nextAfterSeq()));
            })
        .onFailure(ctx::fail);
  }

  private void publicKey(RoutingContext ctx) {
    audit
        .publicKey(Callers.of(ctx))
        .onSuccess(
            key ->
                ctx.response()
                    .putHeader("Content-Type", PEM)
                    .putHeader("X-Audit-Key-Id", key.keyId())
                    .putHeader("X-Audit-Key-Version", key.keyVersion())
                    .end(key.publicKey().pem()))
        .onFailure(ctx::fail);
  }

  private void publicKeys(RoutingContext ctx) {
    audit
        .publicKeys(Callers.of(ctx))
        .onSuccess(
            keys -> {
              JsonArray items = new JsonArray();
              keys.forEach(key -> items.add(key.toJson()));
              Responses.ok(ctx, new JsonObject().put("keys", items));
            })
        .onFailure(ctx::fail);
  }

  private void verify(RoutingContext ctx) {
    // over millions of events the verdict can take longer than the HTTP idle timeout
    LongAnswer.send(ctx, audit.verify(Callers.of(ctx)).map(AuditVerifier.Result::toJson));
  }

  private void acknowledgeForgery(RoutingContext ctx) {
    JsonObject body = Api.validated(ctx).getBody().getJsonObject();
    audit
        .acknowledgeForgery(Callers.of(ctx), body.getLong("seq"), body.getString("reason"))
        .onSuccess(
            acknowledged ->
                Responses.json(
                    ctx,
                    201,
                    new JsonObject()
                        .put("seq", acknowledged.seq())
                        .put("hash", acknowledged.hash())
                        .put(
                            "acknowledgementEventId",
                            acknowledged.acknowledgementEventId().toString())))
        .onFailure(ctx::fail);
  }

  private void clearing(RoutingContext ctx) {
    ValidatedRequest request = Api.validated(ctx);
    String chainId = request.getQuery().get("chainId").getString();
    YearMonth month = YearMonth.parse(request.getQuery().get("month").getString());
    Format format = format(ctx, Format.CSV);
    audit
        .clearing(Callers.of(ctx), chainId, month, format == Format.CSV ? "csv" : "json")
        .onSuccess(
            statement -> {
              if (format == Format.CSV) {
                ctx.response()
                    .putHeader("Content-Type", Csv.CONTENT_TYPE)
                    .putHeader(
                        "Content-Disposition",
                        "attachment; filename=\"clearing-" + chainId + "-" + month + ".csv\"")
                    .end(clearingCsv(statement));
              } else {
                Responses.ok(ctx, clearingJson(statement));
              }
            })
        .onFailure(ctx::fail);
  }

  private static JsonObject clearingJson(Clearing statement) {
    JsonArray lines = new JsonArray();
    Map<String, long[]> totals = new TreeMap<>();
    for (ClearingLine line : statement.lines()) {
      lines.add(
          new JsonObject()
              .put("requestingStoreId", line.requestingStoreId())
              .put("requestingStoreName", line.requestingStoreName())
              .put("originStoreId", line.originStoreId())
              .put("originStoreName", line.originStoreName())
              .put("originMsn", line.originMsn())
              .put("refunds", line.refunds())
              .put("amount", money(line.amountValue(), line.currency()))
              .put(
                  "amountDecimal",
                  RefundLogEntry.formatAmount(line.amountValue(), line.currency())));
      long[] total = totals.computeIfAbsent(line.currency(), c -> new long[2]);
      total[0] += line.refunds();
      total[1] = Math.addExact(total[1], line.amountValue());
    }
    JsonArray totalsJson = new JsonArray();
    totals.forEach(
        (currency, total) ->
            totalsJson.add(
                new JsonObject()
                    .put("currency", currency)
                    .put("refunds", total[0])
                    .put("amount", money(total[1], currency))
                    .put("amountDecimal", RefundLogEntry.formatAmount(total[1], currency))));
    return new JsonObject()
        .put("chainId", statement.chainId())
        .put("month", statement.month().toString())
        .put("timeZone", "UTC")
        .put("from", ChainedEvent.formatTime(statement.from().toInstant()))
        .put("to", ChainedEvent.formatTime(statement.to().toInstant()))
        .put("basis", "SUCCEEDED refunds with requesting store != origin store, by completedAt")
        .put("lines", lines)
        .put("totals", totalsJson);
  }

  private static String clearingCsv(Clearing statement) {
    StringBuilder csv =
        new StringBuilder(
            Csv.line(
                List.of(
                    "month",
                    "requesting_store_id",
                    "requesting_store_name",
                    "origin_store_id",
                    "origin_store_name",
                    "origin_msn",
                    "currency",
                    "refunds",
                    "amount_minor",
                    "amount")));
    for (ClearingLine line : statement.lines()) {
      csv.append(
          Csv.line(
              java.util.Arrays.asList(
                  statement.month().toString(),
                  line.requestingStoreId(),
                  line.requestingStoreName(),
                  line.originStoreId(),
                  line.originStoreName(),
                  line.originMsn(),
                  line.currency(),
                  Long.toString(line.refunds()),
                  Long.toString(line.amountValue()),
                  RefundLogEntry.formatAmount(line.amountValue(), line.currency()))));
    }
    return csv.toString();
  }

  private static JsonObject money(long value, String currency) {
    return new JsonObject().put("value", value).put("currency", currency);
  }

  /**
   * Streams an export: nothing is written until the export's audit event is committed; the first
   * batch (or the end, when there is none) writes the headers and {@code prefix}; each batch is
   * written before the next one is read.
   */
  private <T> void stream(
      RoutingContext ctx,
      String contentType,
      String filename,
      String prefix,
      Function<Function<List<T>, Future<Void>>, Future<Long>> export,
      Function<T, String> line) {
    HttpServerResponse response = ctx.response();
    ExportSink<T> sink = new ExportSink<>(response, contentType, filename, prefix, line);
    export
        .apply(sink)
        .compose(count -> sink.end())
        .onFailure(
            failure -> {
              if (!response.headWritten()) {
                ctx.fail(failure);
              } else {
                LOG.atWarn()
                    .setMessage(
                        "export interrupted; connection reset so the file is not mistaken for complete")
                    .addKeyValue("path", ctx.request().path())
                    .setCause(failure)
                    .log();
                response.reset();
              }
            });
  }

  /**
   * Writes an export's batches to the response, the headers and {@code prefix} before the first
   * one. Used on the request's event loop only.
   */
  private static final class ExportSink<T> implements Function<List<T>, Future<Void>> {
    private final HttpServerResponse response;
    private final String contentType;
    private final String filename;
    private final String prefix;
    private final Function<T, String> line;
    private boolean started;

    ExportSink(
        HttpServerResponse response,
        String contentType,
        String filename,
        String prefix,
        Function<T, String> line) {
      this.response = response;
      this.contentType = contentType;
      this.filename = filename;
      this.prefix = prefix;
      this.line = line;
    }

    @Override
    public Future<Void> apply(List<T> batch) {
      StringBuilder text = new StringBuilder(batch.size() * 256);
      if (!started) {
        started = true;
        response
            .setChunked(true)
            .putHeader("Content-Type", contentType)
            .putHeader("Content-Disposition", "attachment; filename=\"" + filename + "\"");
        text.append(prefix);
      }
      batch.forEach(item -> text.append(line.apply(item)));
      return response.write(Buffer.buffer(text.toString()));
    }

    /** Ends the file (an export of nothing still gets its headers and prefix). */
    Future<Void> end() {
      return started ? response.end() : apply(List.of()).compose(v -> response.end());
    }
  }

  private static JsonObject withNext(JsonObject body, Long nextAfterSeq) {
    if (nextAfterSeq != null) {
      body.put("nextAfterSeq", nextAfterSeq);
    }
    return body;
  }

  /** The representation the client asked for: JSON unless {@code Accept} prefers {@code alt}. */
  private static Format format(RoutingContext ctx, Format alt) {
    for (MIMEHeader accepted : ctx.parsedHeaders().accept()) {
      String type = accepted.component() + "/" + accepted.subComponent();
      if (type.equals("application/json") || type.equals("*/*") || type.equals("application/*")) {
        return Format.JSON;
      }
      if (alt == Format.CSV && type.equals("text/csv")) {
        return Format.CSV;
      }
      if (alt == Format.JSONL
          && (type.equals(JSONL)
              || type.equals("application/jsonl")
              || type.equals("application/x-jsonlines"))) {
        return Format.JSONL;
      }
    }
    return Format.JSON;
  }

  private static RefundQuery refundQuery(ValidatedRequest request, Format format) {
    Instant from = time(request, "from");
    Instant to = time(request, "to");
    if (from != null && to != null && !from.isBefore(to)) {
      throw ProblemException.badRequest(
          "INVALID_TIME_RANGE", "'from' must be before 'to' (from is inclusive, to exclusive).");
    }
    String cursor = string(request, "cursor");
    return new RefundQuery(
        from,
        to,
        string(request, "chainId"),
        string(request, "requestingStoreId"),
        string(request, "originStoreId"),
        string(request, "status"),
        string(request, "orderId"),
        cursor == null ? null : RefundQuery.Position.decode(cursor),
        format == Format.CSV ? 0 : pageLimit(request));
  }

  private static int pageLimit(ValidatedRequest request) {
    long limit = longParam(request, "limit", DEFAULT_PAGE);
    if (limit > MAX_PAGE) {
      throw ProblemException.badRequest(
          "LIMIT_TOO_LARGE",
          "A JSON page holds at most "
              + MAX_PAGE
              + " items; page with the cursor, or ask for an export (Accept: text/csv for refunds,"
              + " application/x-ndjson for events and checkpoints).");
    }
    return (int) limit;
  }

  private static Instant time(ValidatedRequest request, String name) {
    String raw = string(request, name);
    if (raw == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(raw).toInstant();
    } catch (DateTimeParseException e) {
      throw ProblemException.badRequest(
          "INVALID_TIME",
          "'" + name + "' must be an RFC 3339 date-time such as 2025-01-31T23:00:00Z.");
    }
  }

  private static String string(ValidatedRequest request, String name) {
    return Query.string(request, name);
  }

  private static long longParam(ValidatedRequest request, String name, long defaultValue) {
    return Query.longValue(request, name, defaultValue);
  }
}
