package io.refundbroker.app;

import io.refundbroker.config.BrokerConfig;
import io.refundbroker.config.ConfigException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code serve}: run the broker until SIGTERM/Ctrl-C, configured from the environment. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = "Run the broker (configuration from environment variables; see README).")
public final class ServeCommand implements Callable<Integer> {
  static final int EXIT_CONFIG = 2;
  static final int EXIT_STARTUP = 3;

  @Option(
      names = "--sandbox",
      description =
          "Also run the built-in Vipps sandbox on 127.0.0.1:SANDBOX_PORT and point VIPPS_BASE_URL"
              + " at it (offline development; seed it through its /sandbox/v1 control API).")
  boolean sandbox;

  @Override
  public Integer call() {
    return runUntilStopped(System.getenv(), System.out, System.err, sandbox);
  }

  static int runUntilStopped(Map<String, String> env, PrintStream out, PrintStream err) {
    return runUntilStopped(env, out, err, false);
  }

  static int runUntilStopped(
      Map<String, String> env, PrintStream out, PrintStream err, boolean withSandbox) {
    BrokerConfig config;
    try {
      config = BrokerConfig.fromEnvironment(env);
    } catch (ConfigException e) {
      err.println(e.getMessage());
      return EXIT_CONFIG;
    }
    EmbeddedSandbox sandbox = null;
    Launcher launcher;
    // before the start: a SIGHUP while the broker starts (already answering) must not end it
    AtomicReference<Launcher> started = new AtomicReference<>();
    Termination.onHangup(Termination.reloadTlsOf(started));
    try {
      if (withSandbox) {
        sandbox = EmbeddedSandbox.start(config);
        config = BrokerConfig.fromEnvironment(sandbox.environment(env));
      }
      launcher = Launcher.start(config);
      started.set(launcher);
    } catch (Exception e) {
      LoggerFactory.getLogger(ServeCommand.class).error("refund-broker failed to start", e);
      err.println("refund-broker failed to start: " + rootMessage(e));
      if (sandbox != null) {
        sandbox.close();
      }
      return EXIT_STARTUP;
    }
    printAdminTokenFile(launcher.app().generatedAdminTokenFile(), out);
    if (sandbox != null) {
      sandbox.printHowToSeed(out, env.containsKey("VIPPS_BASE_URL"));
    }
    EmbeddedSandbox running = sandbox;
    Termination.awaitThen(
        () -> {
          launcher.close();
          if (running != null) {
            running.close();
          }
        });
    return 0;
  }

  /**
   * Says where the generated admin token is: its file, never the token itself (standard output ends
   * up in journals and CI logs).
   */
  static void printAdminTokenFile(Optional<Path> file, PrintStream out) {
    file.ifPresent(
        path -> {
          out.println();
          out.println("================================================================");
          out.println(" First start: an admin API token was generated and written to");
          out.println();
          out.println("   " + path);
          out.println();
          out.println(" (readable by this user only). The broker keeps only its hash:");
          out.println(" move it into your secret manager, then delete the file.");
          out.println(" (Set BROKER_ADMIN_TOKEN before the first start to choose it.)");
          out.println("================================================================");
          out.println();
          out.flush();
        });
  }

  static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message =
        root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    return message;
  }
}
