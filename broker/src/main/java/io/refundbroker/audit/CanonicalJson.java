package io.refundbroker.audit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A deterministic JSON encoding for hashing: object keys sorted by UTF-16 code units, no
 * whitespace, integers in plain decimal, strings escaped minimally (quote, backslash and control
 * characters only). The same value read back from PostgreSQL {@code jsonb} encodes to the same
 * bytes, which is what lets a verifier recompute an event's hash.
 */
public final class CanonicalJson {
  private CanonicalJson() {}

  public static String encode(Object value) {
    StringBuilder out = new StringBuilder(256);
    write(out, value);
    return out.toString();
  }

  private static void write(StringBuilder out, Object value) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof JsonObject o) {
      writeObject(out, o.getMap());
    } else if (value instanceof Map<?, ?> m) {
      writeObject(out, m);
    } else if (value instanceof JsonArray a) {
      writeArray(out, a.getList());
    } else if (value instanceof List<?> l) {
      writeArray(out, l);
    } else if (value instanceof String s) {
      writeString(out, s);
    } else if (value instanceof Boolean b) {
      out.append(b.booleanValue());
    } else if (value instanceof Integer
        || value instanceof Long
        || value instanceof Short
        || value instanceof Byte
        || value instanceof BigInteger) {
      out.append(value);
    } else if (value instanceof BigDecimal d) {
      writeDecimal(out, d);
    } else if (value instanceof Double || value instanceof Float) {
      writeDecimal(out, new BigDecimal(value.toString()));
    } else {
      writeString(out, value.toString());
    }
  }

  private static void writeDecimal(StringBuilder out, BigDecimal d) {
    BigDecimal stripped = d.stripTrailingZeros();
    if (stripped.scale() <= 0) {
      out.append(stripped.toBigInteger());
    } else {
      out.append(stripped.toPlainString());
    }
  }

  private static void writeObject(StringBuilder out, Map<?, ?> map) {
    List<String> keys = new ArrayList<>(map.size());
    for (Object k : map.keySet()) {
      keys.add(String.valueOf(k));
    }
    Collections.sort(keys);
    out.append('{');
    boolean first = true;
    for (String key : keys) {
      if (!first) {
        out.append(',');
      }
      first = false;
      writeString(out, key);
      out.append(':');
      write(out, map.get(key));
    }
    out.append('}');
  }

  private static void writeArray(StringBuilder out, List<?> list) {
    out.append('[');
    for (int i = 0; i < list.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      write(out, list.get(i));
    }
    out.append(']');
  }

  private static void writeString(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
