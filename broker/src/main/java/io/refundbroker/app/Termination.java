package io.refundbroker.app;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Waits for SIGTERM or SIGINT and runs the graceful stop BEFORE the JVM starts shutting down.
 *
 * <p>Why not a shutdown hook: JVM shutdown hooks run concurrently, and the embedded PostgreSQL
 * library registers its own hook that stops the database at once — in-flight refunds could not be
 * recorded. Handling the signal ourselves lets requests finish and the pool close first; only then
 * does the process exit (and the library's hook finds PostgreSQL already stopped). A shutdown hook
 * remains as a fallback for other ways the JVM may end.
 */
final class Termination {
  private static final Logger LOG = LoggerFactory.getLogger(Termination.class);

  private Termination() {}

  /** Blocks until TERM or INT arrives, then runs {@code stop} (once) and returns. */
  static void awaitThen(Runnable action) {
    AtomicBoolean done = new AtomicBoolean();
    Runnable stop =
        () -> {
          if (done.compareAndSet(false, true)) {
            action.run();
          }
        };
    CompletableFuture<String> signalled = new CompletableFuture<>();
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        Signal.handle(
            new Signal(name),
            signal -> {
              LOG.atInfo().setMessage("signal received").addKeyValue("signal", "SIG" + name).log();
              signalled.complete(name);
            });
      } catch (IllegalArgumentException e) {
        LOG.warn("cannot handle SIG{} on this platform; relying on the JVM shutdown hook", name);
      }
    }
    Runtime.getRuntime().addShutdownHook(new Thread(stop, "refund-broker-shutdown"));
    signalled.join();
    stop.run();
  }

  /**
   * What a SIGHUP does: reloads the TLS files of the broker in {@code started}, or — while it is
   * still starting (registered before the start, so a SIGHUP then does not end the JVM, which is
   * its default) — nothing, since the start reads the files anyway.
   */
  static Runnable reloadTlsOf(AtomicReference<Launcher> started) {
    return () -> {
      Launcher launcher = started.get();
      if (launcher == null) {
        LOG.info("SIGHUP while starting: nothing to reload yet (the start reads the TLS files)");
      } else {
        launcher.reloadTls();
      }
    };
  }

  /**
   * Runs {@code action} on every SIGHUP (reload the TLS certificate) instead of letting the signal
   * end the JVM. The action runs on the JVM's signal thread: it must only start work, not block.
   */
  static void onHangup(Runnable action) {
    try {
      SignalHandler previous =
          Signal.handle(
              new Signal("HUP"),
              signal -> {
                LOG.atInfo().setMessage("signal received").addKeyValue("signal", "SIGHUP").log();
                action.run();
              });
      if (previous == SignalHandler.SIG_IGN) {
        // The JVM keeps a signal ignored that was ignored when it started (e.g. under nohup).
        LOG.warn(
            "SIGHUP is ignored by this process (started under nohup?); TLS files are reloaded on"
                + " change only (BROKER_TLS_RELOAD_CHECK)");
      }
    } catch (IllegalArgumentException e) {
      LOG.warn("cannot handle SIGHUP on this platform; TLS files are reloaded on change only");
    }
  }
}
