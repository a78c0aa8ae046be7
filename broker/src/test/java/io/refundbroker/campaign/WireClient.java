package io.refundbroker.campaign;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP/1.1 client over one kept-alive socket that sends requests byte for byte as a {@link
 * RequestGenerator.Case} describes them (any byte in a header, broken escapes in the target), adds
 * only {@code Host} and {@code Content-Length}, and reconnects when the server closes. Not
 * thread-safe: one per sending thread.
 */
final class WireClient implements AutoCloseable {
  private static final int READ_TIMEOUT_MILLIS = 15_000;

  /** An answer: status, headers (names lower case, first value) and body. */
  record Answer(int status, Map<String, String> headers, byte[] body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final int port;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private int connections;

  WireClient(int port) {
    this.port = port;
  }

  /** Connections opened so far (1 for a client whose connection was kept alive throughout). */
  int connections() {
    return connections;
  }

  Answer send(RequestGenerator.Case request) {
    byte[] bytes = encode(request);
    boolean fresh = socket == null;
    try {
      return exchange(bytes);
    } catch (IOException e) {
      close();
      if (fresh) {
        return noAnswer(request, e);
      }
      try {
        // the kept-alive connection had been closed by the server before this request
        return exchange(bytes);
      } catch (IOException again) {
        close();
        return noAnswer(request, again);
      }
    }
  }

  /** Status 0: no answer (the body says why and to what). */
  private static Answer noAnswer(RequestGenerator.Case request, IOException e) {
    String body = request.body() == null ? "" : new String(request.body(), StandardCharsets.UTF_8);
    String what =
        "no answer: "
            + e
            + " to "
            + request.method()
            + " "
            + (request.target().length() > 200
                ? request.target().substring(0, 200)
                : request.target())
            + " "
            + (body.length() > 300 ? body.substring(0, 300) : body);
    return new Answer(0, Map.of(), what.getBytes(StandardCharsets.UTF_8));
  }

  private Answer exchange(byte[] bytes) throws IOException {
    if (socket == null) {
      socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      socket.setSoTimeout(READ_TIMEOUT_MILLIS);
      socket.setTcpNoDelay(true);
      in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      out = socket.getOutputStream();
      connections++;
    }
    try {
      out.write(bytes);
      out.flush();
    } catch (IOException e) {
      // the server may answer (413, 431) and close before it has read everything: read on
    }
    Answer answer = read();
    String connection = answer.header("Connection");
    if (connection != null && connection.equalsIgnoreCase("close")) {
      close();
    }
    return answer;
  }

  private static byte[] encode(RequestGenerator.Case request) {
    StringBuilder head =
        new StringBuilder(request.method())
            .append(' ')
            .append(request.target())
            .append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    boolean lengthGiven = false;
    for (String[] header : request.headers()) {
      head.append(header[0]).append(": ").append(header[1]).append("\r\n");
      lengthGiven |= header[0].equalsIgnoreCase("Content-Length");
    }
    if (!lengthGiven && request.body() != null) {
      head.append("Content-Length: ").append(request.body().length).append("\r\n");
    }
    head.append("\r\n");
    byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    if (request.body() == null) {
      return headBytes;
    }
    byte[] all = new byte[headBytes.length + request.body().length];
    System.arraycopy(headBytes, 0, all, 0, headBytes.length);
    System.arraycopy(request.body(), 0, all, headBytes.length, request.body().length);
    return all;
  }

  private Answer read() throws IOException {
    String statusLine = line();
    if (statusLine == null) {
      throw new ClosedEarly();
    }
    int status = Integer.parseInt(statusLine.split(" ", 3)[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    List<String> names = new ArrayList<>();
    for (String line = line(); line != null && !line.isEmpty(); line = line()) {
      int colon = line.indexOf(':');
      String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      names.add(name);
      headers.putIfAbsent(name, line.substring(colon + 1).trim());
    }
    byte[] body;
    String length = headers.get("content-length");
    if (status == 204 || status == 304 || status < 200) {
      body = new byte[0];
    } else if (length != null) {
      body = in.readNBytes(Integer.parseInt(length));
    } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = chunked();
    } else {
      body = in.readAllBytes();
      close();
    }
    return new Answer(status, headers, body);
  }

  private byte[] chunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String size = line();
      if (size == null) {
        throw new ClosedEarly();
      }
      int semicolon = size.indexOf(';');
      int n = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
      if (n == 0) {
        for (String trailer = line(); trailer != null && !trailer.isEmpty(); trailer = line()) {
          // trailers are not used by the broker
        }
        return body.toByteArray();
      }
      body.write(in.readNBytes(n));
      line();
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int end =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
    }
    return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } finally {
        socket = null;
      }
    }
  }

  /** The server closed the connection without answering. */
  private static final class ClosedEarly extends IOException {
    ClosedEarly() {
      super("the server closed the connection without an answer");
    }
  }
}
