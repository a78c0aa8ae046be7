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
  private final OrderRepository orders;
  private final AuditLog audit;
  private final Clock clock;

  public OrderImport(
      Pool pool, StoreRepository stores, OrderRepository orders, AuditLog audit, Clock clock) {
    this.pool = pool;
    this.stores = stores;
    this.orders = orders;
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
    return stores
        .list(pool, null)
        .compose(
            all -> {
              Map<String, Store> byId =
                  all.stream().collect(Collectors.toMap(Store::storeId, Function.identity()));
              Map<String, List<Store>> byChain =
                  all.stream().collect(Collectors.groupingBy(Store::chainId));
              List<Rejection> rejected = new ArrayList<>();
              List<Row> valid = new ArrayList<>();
              int rows = 0;
              for (int i = 1; i < lines.size(); i++) {
                if (!lines.get(i).isBlank()) {
                  rows++;
                  parse(i + 1, lines.get(i), byId, byChain, caller, valid, rejected);
                }
              }
              int dataRows = rows;
              return Transactions.run(
                  pool, tx -> write(tx, caller, csv, dataRows, valid, rejected));
            });
  }

  private Future<JsonObject> write(
      SqlConnection tx,
      Caller caller,
      String csv,
      int rows,
      List<Row> valid,
      List<Rejection> rejected) {
    int[] counts = new int[2];
    Future<Void> chain = Future.succeededFuture();
    for (Row row : valid) {
      chain =
          chain.compose(
              v ->
                  orders
                      .insertIfAbsent(tx, row.order())
                      .compose(
                          inserted -> {
                            if (inserted != null) {
                              counts[0]++;
                              return Future.succeededFuture();
                            }
                            return orders
                                .find(tx, row.storeId(), row.orderId())
                                .map(
                                    existing -> {
                                      if (existing.sameSale(row.order())) {
                                        counts[1]++;
                                      } else {
                                        rejected.add(
                                            new Rejection(
                                                row.line(),
                                                row.storeId(),
                                                row.orderId(),
                                                "ORDER_CONFLICT",
                                                "already registered with amount "
                                                    + existing.amount()
                                                    + " or another capture time"));
                                      }
                                      return null;
                                    });
                          }));
    }
    return chain.compose(
        v -> {
          rejected.sort(java.util.Comparator.comparingInt(Rejection::line));
          JsonArray rejections = new JsonArray();
          rejected.forEach(r -> rejections.add(r.toJson()));
          JsonObject report =
              new JsonObject()
                  .put("rows", rows)
                  .put("imported", counts[0])
                  .put("unchanged", counts[1])
                  .put("rejected", rejections);
          if (counts[0] == 0) {
            return Future.succeededFuture(report);
          }
          JsonObject details =
              new JsonObject()
                  .put("imported", counts[0])
                  .put("unchanged", counts[1])
                  .put("rejected", rejected.size())
                  .put("sha256", sha256(csv));
          return audit
              .append(
                  tx,
                  caller.actor(),
                  caller.requestId(),
                  AuditEvent.success("order.imported", "import", caller.requestId(), null, details))
              .map(event -> report);
        });
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
    Store prefixOwner =
        store == null
            ? null
            : OrderResolver.prefixOwner(chains.get(store.chainId()), storeId, orderId);
    String problem = null;
    String code = "CSV_ROW_INVALID";
    if (store == null) {
      code = "STORE_NOT_FOUND";
      problem = "no store has storeId '" + storeId + "'";
    } else if (!ORDER_ID.matcher(orderId).matches()) {
      problem = "orderId must be 1-50 letters, digits or '-'";
    } else if (prefixOwner != null) {
      code = "ORDER_ID_RESERVED";
      problem =
          "orderId starts with the order-id prefix '"
              + prefixOwner.orderIdPrefix()
              + "' of store '"
              + prefixOwner.storeId()
              + "'";
    } else if (!AMOUNT.matcher(amount).matches() || Long.parseLong(amount) == 0) {
      problem = "amount must be a positive integer in minor units (øre/cent), e.g. 49900";
    } else if (!Money.CURRENCIES.contains(currency)) {
      problem = "currency must be one of NOK, DKK, EUR";
    }
    Instant captured = null;
    if (problem == null && !capturedAt.isEmpty()) {
      try {
        captured = Instant.parse(capturedAt);
        if (captured.isAfter(clock.instant())) {
          problem = "capturedAt lies in the future";
        }
      } catch (DateTimeParseException e) {
        problem = "capturedAt must be an ISO-8601 UTC time such as 2026-03-01T12:00:00Z";
      }
    }
    if (problem != null) {
      rejected.add(new Rejection(line, storeId, orderId, code, problem));
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
