package io.refundbroker.http;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a replaced server certificate without dropping the service: on {@link #reloadNow()} (the
 * broker calls it on SIGHUP) and when the PEM files' content changes (checked every {@code
 * BROKER_TLS_RELOAD_CHECK}), it reads and checks the files, then hands them to every HTTP server.
 * New handshakes get the new certificate; open connections and the listener are untouched. Files
 * that do not check out (a key that does not match, half-written files) are refused with an ERROR
 * and the previous certificate keeps being served.
 *
 * <p>Thread confinement: {@code seen} and {@code reloading} are read and written only on this
 * verticle's context; {@link #reloadNow()} hops onto it.
 */
public final class TlsReloadVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(TlsReloadVerticle.class);

  private final Supplier<Future<ServerTls>> loader;
  private final Path certFile;
  private final Path keyFile;
  private final List<HttpVerticle> servers;
  private final Duration checkEvery;
  private byte[] seen;
  private boolean reloading;
  private long timer = -1;

  /**
   * @param current what the servers were started with
   * @param loader reads and checks the files (on a worker)
   * @param checkEvery how often to look at the files; zero: only on {@link #reloadNow()}
   */
  public TlsReloadVerticle(
      ServerTls current,
      Supplier<Future<ServerTls>> loader,
      Path certFile,
      Path keyFile,
      List<HttpVerticle> servers,
      Duration checkEvery) {
    this.seen = current.digest();
    this.loader = loader;
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.servers = List.copyOf(servers);
    this.checkEvery = checkEvery;
  }

  @Override
  public Future<?> start() {
    if (!checkEvery.isZero()) {
      timer = vertx.setPeriodic(checkEvery.toMillis(), id -> checkFiles());
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return Future.succeededFuture();
  }

  /**
   * Reads the files again and serves their certificate, from any thread.
   *
   * @return fails (after logging an ERROR) when the files do not check out; the previous
   *     certificate stays in service
   */
  public Future<Void> reloadNow() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> reload("SIGHUP").onComplete(done));
    return done.future();
  }

  private void checkFiles() {
    if (reloading) {
      return;
    }
    Future<Buffer> cert = vertx.fileSystem().readFile(certFile.toString());
    Future<Buffer> key = vertx.fileSystem().readFile(keyFile.toString());
    Future.all(cert, key)
        .onSuccess(
            both -> {
              byte[] digest = ServerTls.digest(cert.result(), key.result());
              if (!reloading && !Arrays.equals(digest, seen)) {
                seen = digest;
                reload("file change");
              }
            })
        .onFailure(
            missing ->
                LOG.atDebug()
                    .setMessage("TLS files not readable right now; looking again later")
                    .addKeyValue("reason", missing.getMessage())
                    .log());
  }

  private Future<Void> reload(String trigger) {
    reloading = true;
    return loader
        .get()
        .compose(this::serve)
        .onComplete(finished -> reloading = false)
        .onSuccess(
            tls ->
                LOG.atInfo()
                    .setMessage("TLS certificate reloaded")
                    .addKeyValue("trigger", trigger)
                    .addKeyValue("certificate", tls.description())
                    .log())
        .onFailure(
            failure ->
                LOG.atError()
                    .setMessage("TLS certificate NOT reloaded; still serving the previous one")
                    .addKeyValue("trigger", trigger)
                    .addKeyValue("reason", failure.getMessage())
                    .log())
        .mapEmpty();
  }

  private Future<ServerTls> serve(ServerTls tls) {
    seen = tls.digest();
    List<Future<Boolean>> updated = new ArrayList<>();
    for (HttpVerticle server : servers) {
      updated.add(server.updateTls(tls));
    }
    return Future.all(updated).map(all -> tls);
  }
}
