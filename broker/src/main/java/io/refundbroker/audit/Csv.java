package io.refundbroker.audit;

import java.util.List;

/**
 * Writes RFC 4180 CSV for spreadsheets: CRLF line ends; a cell is quoted when it holds a comma,
 * quote, CR or LF (quotes doubled). A cell that a spreadsheet would run as a formula (starting with
 * {@code =}, {@code +}, {@code -}, {@code @}, tab or CR) is prefixed with a single quote {@code '}
 * (OWASP's advice against CSV injection), so an order id or reason typed by a cashier can never
 * become a formula on an auditor's machine. Amount columns are written by the broker and are never
 * negative, so numbers stay numbers.
 */
public final class Csv {
  public static final String CONTENT_TYPE = "text/csv; charset=utf-8; header=present";

  private Csv() {}

  /** One record, ending with CRLF. */
  public static String line(List<String> cells) {
    StringBuilder out = new StringBuilder(256);
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      cell(out, cells.get(i));
    }
    return out.append("\r\n").toString();
  }

  private static void cell(StringBuilder out, String raw) {
    String value = raw == null ? "" : raw;
    if (!value.isEmpty() && "=+-@\t\r".indexOf(value.charAt(0)) >= 0) {
      value = "'" + value;
    }
    boolean quote =
        value.indexOf(',') >= 0
            || value.indexOf('"') >= 0
            || value.indexOf('\n') >= 0
            || value.indexOf('\r') >= 0;
    if (!quote) {
      out.append(value);
      return;
    }
    out.append('"').append(value.replace("\"", "\"\"")).append('"');
  }
}
