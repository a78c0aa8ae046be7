package io.refundbroker.testing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;

/**
 * A Vert.x HTTPS client for a broker under test: it trusts the test CA that issued the broker's
 * server certificate and, when given one, presents a client certificate with its own private key
 * (mutual TLS). Each request reports the connection it used, so a test can tell a kept-alive
 * connection from a new handshake.
 */
public final class TlsClient implements AutoCloseable {
  private final HttpClientAgent http;
  private final int port;

  /** One answer and the connection it came over. */
  public record Answer(HttpResult result, HttpConnection connection) {
    /** The broker's certificate as this connection's handshake presented it. */
    public X509Certificate serverCertificate() {
      try {
        return (X509Certificate) connection.peerCertificates().get(0);
      } catch (Exception e) {
        throw new AssertionError("no server certificate on the connection", e);
      }
    }
  }

  private TlsClient(HttpClientAgent http, int port) {
    this.http = http;
    this.port = port;
  }

  /** Trusts {@code serverCaPem}; presents no client certificate. */
  public static TlsClient anonymous(Vertx vertx, int port, String serverCaPem) {
    return new TlsClient(vertx.createHttpClient(options(serverCaPem)), port);
  }

  /** Trusts {@code serverCaPem}; presents {@code certificatePem} with {@code keyPem}. */
  public static TlsClient withCertificate(
      Vertx vertx, int port, String serverCaPem, String certificatePem, String keyPem) {
    HttpClientOptions options =
        options(serverCaPem)
            .setKeyCertOptions(
                new PemKeyCertOptions()
                    .setCertValue(Buffer.buffer(certificatePem))
                    .setKeyValue(Buffer.buffer(keyPem)));
    return new TlsClient(vertx.createHttpClient(options), port);
  }

  /**
   * Like {@link #withCertificate}, but the certificate is sent whatever the server asks for: a JDK
   * client leaves out a certificate whose issuer the server did not name (or that has expired),
   * while an attacker's client would send it anyway — so does this one.
   */
  public static TlsClient forcingCertificate(
      Vertx vertx, int port, String serverCaPem, String certificatePem, String keyPem) {
    try {
      X509KeyManager loaded =
          (X509KeyManager)
              new PemKeyCertOptions()
                  .setCertValue(Buffer.buffer(certificatePem))
                  .setKeyValue(Buffer.buffer(keyPem))
                  .getKeyManagerFactory(vertx)
                  .getKeyManagers()[0];
      HttpClientOptions options =
          options(serverCaPem).setKeyCertOptions(KeyCertOptions.wrap(new Insistent(loaded)));
      return new TlsClient(vertx.createHttpClient(options), port);
    } catch (Exception e) {
      throw new AssertionError("cannot load the client certificate", e);
    }
  }

  /** Offers its one certificate to every server, whichever CAs the server says it accepts. */
  private static final class Insistent extends X509ExtendedKeyManager {
    private final X509KeyManager delegate;
    private final String alias;

    Insistent(X509KeyManager delegate) {
      this.delegate = delegate;
      String found = null;
      for (String type : new String[] {"EC", "RSA"}) {
        String[] aliases = delegate.getClientAliases(type, null);
        if (aliases != null && aliases.length > 0) {
          found = aliases[0];
          break;
        }
      }
      if (found == null) {
        throw new AssertionError("no client key in the PEM");
      }
      this.alias = found;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {alias};
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return alias;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      return alias;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String name) {
      return delegate.getCertificateChain(name);
    }

    @Override
    public PrivateKey getPrivateKey(String name) {
      return delegate.getPrivateKey(name);
    }
  }

  private static HttpClientOptions options(String serverCaPem) {
    return new HttpClientOptions()
        .setSsl(true)
        .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(serverCaPem)))
        .setDefaultHost("127.0.0.1")
        .setKeepAlive(true)
        .setConnectTimeout(5000);
  }

  /**
   * Sends a request ({@code token} and {@code body} may be null).
   *
   * @return the answer; fails when the connection or handshake fails
   */
  public Future<Answer> send(
      HttpMethod method, String path, String token, JsonObject body, Map<String, String> headers) {
    RequestOptions request =
        new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(path);
    if (token != null) {
      request.putHeader("Authorization", "Bearer " + token);
    }
    headers.forEach(request::putHeader);
    if (body != null) {
      request.putHeader("Content-Type", "application/json");
    }
    return http.request(request)
        .compose(
            sent ->
                (body == null ? sent.send() : sent.send(body.toBuffer()))
                    .compose(
                        response ->
                            response
                                .body()
                                .map(
                                    content ->
                                        new Answer(
                                            new HttpResult(
                                                response.statusCode(), response.headers(), content),
                                            sent.connection()))));
  }

  public Future<Answer> get(String path, String token) {
    return send(HttpMethod.GET, path, token, null, Map.of());
  }

  @Override
  public void close() {
    Await.result(http.close());
  }
}
