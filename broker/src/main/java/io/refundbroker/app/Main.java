package io.refundbroker.app;

import io.refundbroker.audit.AuditCommand;
import io.refundbroker.config.BuildInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code refund-broker.jar} command line: {@code serve} (the default), and the other
 * subcommands listed in {@code --help}.
 */
@Command(
    name = "refund-broker",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Cross-store Vipps MobilePay refund broker with a credential vault.",
    subcommands = {ServeCommand.class, DemoCommand.class, AuditCommand.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit code (tests call this instead of {@link #main}). */
  public static int run(String... args) {
    normaliseLogFormat();
    String[] effective = args.length == 0 ? new String[] {"serve"} : args;
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(effective);
  }

  /** Logback reads BROKER_LOG_FORMAT before any config validation; accept any letter case. */
  private static void normaliseLogFormat() {
    String format = System.getenv("BROKER_LOG_FORMAT");
    if (format != null && System.getProperty("BROKER_LOG_FORMAT") == null) {
      String lower = format.trim().toLowerCase(java.util.Locale.ROOT);
      System.setProperty("BROKER_LOG_FORMAT", lower.equals("json") ? "json" : "text");
    }
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"refund-broker " + BuildInfo.version()};
    }
  }
}
