package io.refundbroker.order;

import io.refundbroker.audit.AuditEvent;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.caller.Caller;
import io.refundbroker.db.Transactions;
import io.refundbroker.error.ProblemException;
import io.refundbroker.money.Money;
import io.refundbroker.store.Store;
import io.refundbroker.store.StoreRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Bulk import of past orders from CSV ({@code storeId,orderId,amount,currency,capturedAt}, a header
 * row first; amounts in minor units; capturedAt an ISO-8601 UTC time or empty). Valid rows are
 * imported in one transaction; every other row is reported with its line number and the reason, and
 * nothing is written for it. A row whose order id carries another store's order-id prefix is
 * refused ({@code ORDER_ID_RESERVED}), as a registration is (see {@link OrderResolver}).
 */
public final class OrderImport {
  static final List<String> HEADER =
      List.of("storeid", "orderid", "amount", "currency", "capturedat");
  static final int MAX_ROWS = 100_000;
  private static final Pattern ORDER_ID = Pattern.compile("^[A-Za-z0-9-]{1,50}$");
  private static final Pattern AMOUNT = Pattern.compile("^[0-9]{1,12}$");

  private final Pool pool;
  private final StoreRepository stores;
  private final OrderRegistry registry;
  private final AuditLog audit;
  private final Clock clock;

  public OrderImport(
      Pool pool, StoreRepository stores, OrderRepository orders, AuditLog audit, Clock clock) {
    this.pool = pool;
    this.stores = stores;
    this.registry = new OrderRegistry(orders);
    this.audit = audit;
    this.clock = clock;
  }

  private record Row(int line, String storeId, String orderId, Order order) {}

  private record Rejection(int line, String storeId, String orderId, String code, String reason) {
    JsonObject toJson() {
      return new JsonObject()
          .put("line", line)
          .put("storeId", storeId)
          .put("orderId", orderId)
          .put("code", code)
          .put("reason", reason);
    }
  }

  /**
   * Imports the CSV.
   *
   * @return the per-row report {@code {rows, imported, unchanged, rejected:[…]}}; fails with 400
   *     {@code CSV_INVALID} when the file itself is unusable (nothing is written then)
   */
  public Future<JsonObject> importCsv(Caller caller, String csv) {
    List<String> lines = csv.lines().toList();
    if (lines.isEmpty() || !header(lines.get(0))) {
      return Future.failedFuture(
          ProblemException.badRequest(
              "CSV_INVALID",
              "The first line must be the header storeId,orderId,amount,currency,capturedAt."));
    }
    if (lines.size() - 1 > MAX_ROWS) {
      return Future.failedFuture(
          ProblemException.badRequest(
              "CSV_INVALID", "At most " + MAX_ROWS + " rows per import; split the file."));
    }
    return stores.list(pool, null).compose(all -> importRows(caller, csv, lines, all));
  }

  /** Parses every data row against the stores, then writes the valid ones in one transaction. */
  private Future<JsonObject> importRows(
      Caller caller, String csv, List<String> lines, List<Store> all) {
    Map<String, Store> byId =
        all.stream().collect(Collectors.toMap(Store::storeId, Function.identity()));
    Map<String, List<Store>> byChain = all.stream().collect(Collectors.groupingBy(Store::chainId));
    List<Rejection> rejected = new ArrayList<>();
    List<Row> valid = new ArrayList<>();
    int rows = 0;
    for (int i = 1; i < lines.size(); i++) {
      if (!lines.get(i).isBlank()) {
        rows++;
        parse(i + 1, lines.get(i), byId, byChain, caller, valid, rejected);
      }
    }
    Tally start = new Tally(rows, 0, 0, rejected);
    return Transactions.run(pool, tx -> write(tx, caller, csv, valid, start));
  }

  /** What the import did so far; its rejections grow as rows conflict. */
  private record Tally(int rows, int imported, int unchanged, List<Rejection> rejected) {
    Tally add(Row row, OrderRegistry.Written written) {
      if (written instanceof OrderRegistry.Created) {
        return new Tally(rows, imported + 1, unchanged, rejected);
      }
      if (written instanceof OrderRegistry.Unchanged) {
        return new Tally(rows, imported, unchanged + 1, rejected);
      }
      rejected.add(
          new Rejection(
              row.line(),
              row.storeId(),
              row.orderId(),
              "ORDER_CONFLICT",
              "already registered with amount "
                  + written.order().amount()
                  + " or another capture time"));
      return this;
    }

    JsonObject report() {
      rejected.sort(Comparator.comparingInt(Rejection::line));
      JsonArray rejections = new JsonArray();
      rejected.forEach(r -> rejections.add(r.toJson()));
      return new JsonObject()
          .put("rows", rows)
          .put("imported", imported)
          .put("unchanged", unchanged)
          .put("rejected", rejections);
    }
  }

  /** Writes the valid rows one after the other, then audits the import if it changed anything. */
  private Future<JsonObject> write(
      SqlConnection tx, Caller caller, String csv, List<Row> valid, Tally start) {
    Future<Tally> tally = Future.succeededFuture(start);
    for (Row row : valid) {
      tally =
          tally.compose(sofar -> registry.write(tx, row.order(), true).map(w -> sofar.add(row, w)));
    }
    return tally.compose(done -> audited(tx, caller, csv, done));
  }

  private Future<JsonObject> audited(SqlConnection tx, Caller caller, String csv, Tally done) {
    JsonObject report = done.report();
    if (done.imported() == 0) {
      return Future.succeededFuture(report);
    }
    JsonObject details =
        new JsonObject()
            .put("imported", done.imported())
            .put("unchanged", done.unchanged())
            .put("rejected", done.rejected().size())
            .put("sha256", sha256(csv));
    return audit.record(
        tx,
        caller,
        AuditEvent.success("order.imported", "import", caller.requestId(), null, details),
        report);
  }

  private void parse(
      int line,
      String text,
      Map<String, Store> stores,
      Map<String, List<Store>> chains,
      Caller caller,
      List<Row> valid,
      List<Rejection> rejected) {
    String[] cells = text.split(",", -1);
    String storeId = cells.length > 0 ? cells[0].trim() : "";
    String orderId = cells.length > 1 ? cells[1].trim() : "";
    if (cells.length != 5) {
      rejected.add(
          new Rejection(
              line,
              storeId,
              orderId,
              "CSV_ROW_INVALID",
              "expected 5 columns, found " + cells.length));
      return;
    }
    String amount = cells[2].trim();
    String currency = cells[3].trim().toUpperCase(Locale.ROOT);
    String capturedAt = cells[4].trim();
    Store store = stores.get(storeId);
    Rejection problem = check(line, store, storeId, orderId, amount, currency, chains);
    Instant captured = null;
    if (problem == null && !capturedAt.isEmpty()) {
      try {
        captured = Instant.parse(capturedAt);
        if (captured.isAfter(clock.instant())) {
          problem = invalid(line, storeId, orderId, "capturedAt lies in the future");
        }
      } catch (DateTimeParseException e) {
        problem =
            invalid(
                line,
                storeId,
                orderId,
                "capturedAt must be an ISO-8601 UTC time such as 2026-03-01T12:00:00Z");
      }
    }
    if (problem != null) {
      rejected.add(problem);
      return;
    }
    Order order =
        new Order(
            storeId,
            orderId,
            new Money(Long.parseLong(amount), currency),
            captured,
            "IMPORTED",
            caller.principal().clientId(),
            null);
    valid.add(new Row(line, storeId, orderId, order));
  }

  /** The row's store, order id, amount and currency, checked in that order; null when fine. */
  private static Rejection check(
      int line,
      Store store,
      String storeId,
      String orderId,
      String amount,
      String currency,
      Map<String, List<Store>> chains) {
    if (store == null) {
      return new Rejection(
          line, storeId, orderId, "STORE_NOT_FOUND", "no store has storeId '" + storeId + "'");
    }
    if (!ORDER_ID.matcher(orderId).matches()) {
      return invalid(line, storeId, orderId, "orderId must be 1-50 letters, digits or '-'");
    }
    Store prefixOwner = OrderResolver.prefixOwner(chains.get(store.chainId()), storeId, orderId);
    if (prefixOwner != null) {
      return new Rejection(
          line,
          storeId,
          orderId,
          "ORDER_ID_RESERVED",
          "orderId starts with the order-id prefix '"
              + prefixOwner.orderIdPrefix()
              + "' of store '"
              + prefixOwner.storeId()
              + "'");
    }
    if (!AMOUNT.matcher(amount).matches() || Long.parseLong(amount) == 0) {
      return invalid(
          line,
          storeId,
          orderId,
          "amount must be a positive integer in minor units (øre/cent), e.g. 49900");
    }
    if (!Money.CURRENCIES.contains(currency)) {
      return invalid(line, storeId, orderId, "currency must be one of NOK, DKK, EUR");
    }
    return null;
  }

  private static Rejection invalid(int line, String storeId, String orderId, String reason) {
    return new Rejection(line, storeId, orderId, "CSV_ROW_INVALID", reason);
  }

  private static boolean header(String line) {
    List<String> cells =
        java.util.Arrays.stream(line.replace("\uFEFF", "").split(",", -1))
            .map(c -> c.trim().toLowerCase(Locale.ROOT))
            .toList();
    return cells.equals(HEADER);
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
