package io.refundbroker.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Whether a URL's host is this machine's loopback interface, decided from the name alone (never a
 * DNS lookup, so no name someone else controls can pass): {@code localhost}, an IPv4 address in
 * 127.0.0.0/8, or the IPv6 loopback {@code ::1}.
 */
public final class Loopback {
  private static final String OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
  private static final Pattern IPV4_LOOPBACK =
      Pattern.compile("127\\." + OCTET + "\\." + OCTET + "\\." + OCTET);
  private static final Pattern IPV6_LITERAL = Pattern.compile("[0-9a-f:.]*:[0-9a-f:.]*");

  private Loopback() {}

  /** {@code host} as {@link java.net.URI#getHost()} gives it (an IPv6 address in brackets). */
  public static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.equals("localhost") || IPV4_LOOPBACK.matcher(h).matches()) {
      return true;
    }
    if (!IPV6_LITERAL.matcher(h).matches()) {
      return false;
    }
    try {
      // an address literal: InetAddress only parses it, it does not resolve anything
      return InetAddress.getByName("[" + h + "]").isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
