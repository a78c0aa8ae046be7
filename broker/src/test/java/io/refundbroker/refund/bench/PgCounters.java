package io.refundbroker.refund.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PostgreSQL's cumulative counters for one database at one moment — statements of the broker's role
 * ({@code pg_stat_statements}, {@code BEGIN}/{@code COMMIT} included), commits, WAL written and
 * flushed, row changes of the refund tables — so that two snapshots subtract into what one phase
 * cost. All reads go through the {@code postgres} database (the per-table counters excepted), so
 * the measuring does not show up in the measured database's own counters.
 *
 * @param statements statement executions by {@link BenchPostgres#APP_USER} in the database, top
 *     level only (each one a round trip; statements run by triggers are in {@code byQuery} only)
 * @param byQuery the same per normalised statement
 * @param commits {@code xact_commit} of the database (every session, the sequencer's included)
 * @param walSyncs WAL flushes to disk ({@code pg_stat_wal.wal_sync}; cluster-wide)
 * @param tables inserted, updated and HOT-updated rows per table of the write path
 */
record PgCounters(
    long statements,
    Map<Long, Statement> byQuery,
    long commits,
    long rollbacks,
    long walRecords,
    long walFpi,
    long walBytes,
    long walWrites,
    long walSyncs,
    Map<String, TableRows> tables) {

  /** Tables whose row changes per refund are worth seeing. */
  static final List<String> TABLES =
      List.of("refunds", "idempotency_records", "audit_entries", "audit_links", "orders");

  /**
   * One normalised statement: how often it ran and how long PostgreSQL spent executing it; {@code
   * toplevel} false for a statement run inside a function or trigger (not a round trip).
   */
  record Statement(String query, boolean toplevel, long calls, double totalMs, long rows) {}

  /**
   * Row counters of one table; {@code seqRead}: rows read by sequential scans (on a table of the
   * write path, a sign of a plan chosen while the table was empty).
   */
  record TableRows(long inserted, long updated, long hotUpdated, long seqRead, long indexes) {}

  static PgCounters read(BenchPostgres pg, String database) {
    Map<Long, Statement> byQuery = new HashMap<>();
    long statements = 0;
    for (Map<String, Object> row :
        pg.query(
            "postgres",
            "SELECT s.queryid, s.toplevel, s.calls, s.total_exec_time, s.rows,"
                + " regexp_replace(s.query, '\\s+', ' ', 'g') AS query"
                + " FROM pg_stat_statements s"
                + " JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid"
                + " WHERE r.rolname = '"
                + BenchPostgres.APP_USER
                + "' AND d.datname = '"
                + database
                + "'")) {
      long calls = number(row.get("calls"));
      boolean toplevel = Boolean.TRUE.equals(row.get("toplevel"));
      if (toplevel) {
        statements += calls;
      }
      long id = number(row.get("queryid"));
      byQuery.merge(
          toplevel ? id : ~id,
          new Statement(
              (String) row.get("query"),
              toplevel,
              calls,
              ((Number) row.get("total_exec_time")).doubleValue(),
              number(row.get("rows"))),
          (a, b) ->
              new Statement(
                  a.query(),
                  a.toplevel(),
                  a.calls() + b.calls(),
                  a.totalMs() + b.totalMs(),
                  a.rows() + b.rows()));
    }
    Map<String, Object> db =
        pg.query(
                "postgres",
                "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = '"
                    + database
                    + "'")
            .get(0);
    Map<String, Object> wal =
        pg.query(
                "postgres",
                "SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync FROM pg_stat_wal")
            .get(0);
    Map<String, TableRows> tables = new LinkedHashMap<>();
    for (Map<String, Object> row :
        pg.query(
            database,
            "SELECT t.relname, t.n_tup_ins, t.n_tup_upd, t.n_tup_hot_upd, t.seq_tup_read,"
                + " (SELECT count(*) FROM pg_index i WHERE i.indrelid = t.relid) AS indexes"
                + " FROM pg_stat_user_tables t WHERE t.relname IN ('"
                + String.join("', '", TABLES)
                + "') ORDER BY t.relname")) {
      tables.put(
          (String) row.get("relname"),
          new TableRows(
              number(row.get("n_tup_ins")),
              number(row.get("n_tup_upd")),
              number(row.get("n_tup_hot_upd")),
              number(row.get("seq_tup_read")),
              number(row.get("indexes"))));
    }
    return new PgCounters(
        statements,
        byQuery,
        number(db.get("xact_commit")),
        number(db.get("xact_rollback")),
        number(wal.get("wal_records")),
        number(wal.get("wal_fpi")),
        number(wal.get("wal_bytes")),
        number(wal.get("wal_write")),
        number(wal.get("wal_sync")),
        tables);
  }

  /** What happened between {@code earlier} and this snapshot. */
  PgCounters since(PgCounters earlier) {
    Map<Long, Statement> delta = new HashMap<>();
    byQuery.forEach(
        (id, now) -> {
          Statement before = earlier.byQuery.get(id);
          long calls = now.calls() - (before == null ? 0 : before.calls());
          if (calls > 0) {
            delta.put(
                id,
                new Statement(
                    now.query(),
                    now.toplevel(),
                    calls,
                    now.totalMs() - (before == null ? 0 : before.totalMs()),
                    now.rows() - (before == null ? 0 : before.rows())));
          }
        });
    Map<String, TableRows> rows = new LinkedHashMap<>();
    tables.forEach(
        (name, now) -> {
          TableRows before = earlier.tables.getOrDefault(name, new TableRows(0, 0, 0, 0, 0));
          rows.put(
              name,
              new TableRows(
                  now.inserted() - before.inserted(),
                  now.updated() - before.updated(),
                  now.hotUpdated() - before.hotUpdated(),
                  now.seqRead() - before.seqRead(),
                  now.indexes()));
        });
    return new PgCounters(
        statements - earlier.statements,
        delta,
        commits - earlier.commits,
        rollbacks - earlier.rollbacks,
        walRecords - earlier.walRecords,
        walFpi - earlier.walFpi,
        walBytes - earlier.walBytes,
        walWrites - earlier.walWrites,
        walSyncs - earlier.walSyncs,
        rows);
  }

  /** Who issues a statement (a nested one: inside a trigger or function). */
  static String issuer(Statement statement) {
    return statement.toplevel() ? issuer(statement.query()) : "nested (trigger)";
  }

  /** Who issues a statement: the request path, or one of the broker's background jobs. */
  static String issuer(String query) {
    if (query.contains("pg_current_snapshot")
        || query.contains("INSERT INTO audit_links")
        || query.contains("head_seq")
        || query.contains("pg_try_advisory_lock")) {
      return "sequencer";
    }
    if (query.contains("audit_checkpoints")
        || query.contains("pg_try_advisory_xact_lock")
        || query.contains("first_unsigned_at")) {
      return "checkpointer";
    }
    if (query.contains("SKIP LOCKED")) {
      return "reconciler";
    }
    if (query.equals("BEGIN") || query.equals("COMMIT") || query.equals("ROLLBACK")) {
      return "transaction";
    }
    return "request";
  }

  /**
   * Statements of the request path per refund: everything but the background jobs' statements and
   * the {@code BEGIN}/{@code COMMIT} of the sequencer's batches (one per {@code UNLINKED} read).
   */
  double requestPathStatementsPer(long refunds) {
    long background = 0;
    long sequencerBatches = 0;
    for (Statement s : byQuery.values()) {
      if (!s.toplevel()) {
        continue;
      }
      String who = issuer(s.query());
      if (!who.equals("request") && !who.equals("transaction")) {
        background += s.calls();
      }
      if (s.query().contains("LEFT JOIN LATERAL") && s.query().contains("pg_current_snapshot")) {
        sequencerBatches += s.calls();
      }
    }
    return refunds == 0 ? 0 : (double) (statements - background - 2 * sequencerBatches) / refunds;
  }

  /** The statements by calls, most frequent first. */
  List<Statement> statementsByCalls() {
    List<Statement> list = new ArrayList<>(byQuery.values());
    list.sort(Comparator.comparingLong(Statement::calls).reversed());
    return list;
  }

  private static long number(Object value) {
    return value == null ? 0 : ((Number) value).longValue();
  }
}
