package io.refundbroker.db;

import io.refundbroker.config.DatabaseUrl;
import io.refundbroker.config.Secret;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.postgresql.util.PasswordUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server run by the broker itself, from the io.zonky binaries ({@link
 * PostgresBinaries}). Its cluster lives under a directory that survives restarts, so a second start
 * finds the data of the first. The broker and the test suite start every embedded cluster through
 * this class, so both run with the same settings:
 *
 * <ul>
 *   <li><b>durable</b>: {@code fsync}, {@code synchronous_commit} and {@code full_page_writes} on
 *       ({@link #SETTINGS}, given on the server's command line, which outranks the configuration
 *       files and {@code ALTER SYSTEM}). A commit the broker has seen survives a power loss.
 *   <li><b>locked</b>: every role logs in with a SCRAM-SHA-256 password; {@code pg_hba.conf} (
 *       {@link #PG_HBA}, rewritten at every start) has no {@code trust} line; the server listens on
 *       127.0.0.1 only and has no Unix socket. The passwords are generated at first start and kept
 *       in {@code postgres.password} (the superuser, used for migrations) and {@code
 *       refund_broker.password} (the broker's login role) in the data directory, mode 0600.
 * </ul>
 *
 * <p>A cluster made by an older broker (trust authentication, no password files) is upgraded in
 * place at start: passwords are generated, the superuser's is set in single-user mode (no network
 * connection is ever accepted without a password), then {@code pg_hba.conf} is locked. Deleting a
 * password file (or leaving it readable by others) makes the next start replace that password.
 *
 * <p>Thread-safety: started and used from one thread; {@link #close} may also come from a shutdown
 * hook, and an {@link AtomicBoolean} lets only the first close run.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  public static final String DATABASE = "refund_broker";
  public static final String APP_USER = "refund_broker";
  static final String SUPERUSER = "postgres";

  /** What makes a commit survive a power loss; also used in single-user mode. */
  static final Map<String, String> DURABILITY =
      orderedMap("fsync", "on", "synchronous_commit", "on", "full_page_writes", "on");

  /**
   * Server settings of every embedded cluster, in command-line order ({@code pg_ctl -o} passes them
   * through a shell, hence the quoted empty socket directory: no Unix socket).
   */
  static final Map<String, String> SETTINGS = settings();

  /** The only authentication rule: SCRAM passwords over loopback TCP. */
  static final String PG_HBA =
      """
      # Written by refund-broker at every start; edits are overwritten.
      # Every login needs its SCRAM-SHA-256 password; only loopback TCP is accepted.
      # TYPE  DATABASE  USER  ADDRESS       METHOD
      host    all       all   127.0.0.1/32  scram-sha-256
      """;

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDatabase.class);
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);
  private static final String LOOPBACK = "127.0.0.1";

  private final PostgresBinaries binaries;
  private final Path dataDir;
  private final int port;
  private final Secret superuserPassword;
  private final Secret appPassword;

  /** Holds the data directory's lock file locked until {@link #close()}. */
  private final FileChannel lockChannel;

  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread shutdownHook;

  private EmbeddedDatabase(
      PostgresBinaries binaries,
      Path dataDir,
      int port,
      Secret superuserPassword,
      Secret appPassword,
      FileChannel lockChannel) {
    this.binaries = binaries;
    this.dataDir = dataDir;
    this.port = port;
    this.superuserPassword = superuserPassword;
    this.appPassword = appPassword;
    this.lockChannel = lockChannel;
    this.shutdownHook = new Thread(this::close, "embedded-postgres-stop");
  }

  /**
   * Starts (initialising on first use, upgrading a trust cluster of an older version) a cluster in
   * {@code dataDir} and makes sure the broker's database and login role exist. Blocking.
   *
   * @throws UncheckedIOException when PostgreSQL cannot be initialised or started
   * @throws IllegalStateException when another process uses {@code dataDir}
   */
  public static EmbeddedDatabase start(Path dataDir) {
    Path dir = dataDir.toAbsolutePath().normalize();
    PostgresBinaries binaries = PostgresBinaries.installed();
    FileChannel lockChannel = null;
    try {
      Files.createDirectories(dir.getParent());
      lockChannel =
          FileChannel.open(
              dir.resolveSibling(dir.getFileName() + ".lock"),
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE);
      lock(lockChannel, dir);
      boolean fresh = !Files.exists(dir.resolve("PG_VERSION"));
      LOG.atInfo()
          .setMessage(fresh ? "initialising embedded PostgreSQL" : "starting embedded PostgreSQL")
          .addKeyValue("dir", dir)
          .log();
      if (fresh) {
        initialise(binaries, dir);
      }
      lockDown(binaries, dir);
      EmbeddedDatabase db =
          new EmbeddedDatabase(
              binaries,
              dir,
              freePort(),
              PasswordFile.of(dir, SUPERUSER).read(),
              PasswordFile.of(dir, APP_USER).read(),
              lockChannel);
      db.startServer();
      try {
        db.ensureDatabase(DATABASE);
      } catch (RuntimeException e) {
        db.close();
        throw e;
      }
      return db;
    } catch (IOException e) {
      closeQuietly(lockChannel);
      throw new UncheckedIOException("could not start embedded PostgreSQL in " + dir, e);
    } catch (RuntimeException e) {
      closeQuietly(lockChannel);
      throw e;
    }
  }

  /**
   * Creates {@code database} if missing. Blocking.
   *
   * @throws IllegalStateException when the server refuses
   */
  public void ensureDatabase(String database) {
    try (Connection c = superuserConnection();
        PreparedStatement exists =
            c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      exists.setString(1, database);
      boolean present;
      try (var rs = exists.executeQuery()) {
        present = rs.next();
      }
      if (!present) {
        try (Statement s = c.createStatement()) {
          s.execute("CREATE DATABASE " + quote(database));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "could not prepare embedded database " + database + ": " + e.getMessage(), e);
    }
  }

  /** The superuser URL used for migrations. */
  public DatabaseUrl ownerUrl(String database) {
    return url(database, SUPERUSER, superuserPassword);
  }

  /** The least-privilege URL the running broker uses. */
  public DatabaseUrl appUrl(String database) {
    return url(database, APP_USER, appPassword);
  }

  public int port() {
    return port;
  }

  /** The cluster's data directory (it also holds the password files). */
  public Path dataDir() {
    return dataDir;
  }

  /** Stops the server (fast shutdown) and releases the data directory. Blocking; idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      if (Thread.currentThread() != shutdownHook) {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      }
    } catch (IllegalStateException shuttingDown) {
      // the JVM is exiting; the hook runs (or has run) this method
    }
    try {
      run(binaries.command("pg_ctl", pgCtl("stop", "-m", "fast")), null);
      LOG.atInfo().setMessage("embedded PostgreSQL stopped").addKeyValue("dir", dataDir).log();
    } catch (IOException | RuntimeException e) {
      LOG.warn("embedded PostgreSQL did not stop cleanly", e);
    } finally {
      closeQuietly(lockChannel);
    }
  }

  private void startServer() throws IOException {
    List<String> options = new ArrayList<>(List.of("-p", Integer.toString(port)));
    SETTINGS.forEach((name, value) -> options.add("-c " + name + "=" + value));
    Path log = dataDir.resolve("server.log");
    List<String> args = pgCtl("start", "-l", log.toString(), "-o", String.join(" ", options));
    try {
      run(binaries.command("pg_ctl", args), null);
    } catch (IOException | RuntimeException e) {
      throw new IOException(e.getMessage() + "\nserver log (" + log + "):\n" + tail(log), e);
    }
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    try {
      setAppPassword();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    LOG.atInfo()
        .setMessage("embedded PostgreSQL ready")
        .addKeyValue("dir", dataDir)
        .addKeyValue("port", port)
        .log();
  }

  /** Creates the broker's login role or sets its password to the one in its file. */
  private void setAppPassword() {
    String verifier = PasswordUtil.encodeScramSha256(appPassword.reveal().toCharArray());
    try (Connection c = superuserConnection();
        PreparedStatement exists = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?");
        Statement s = c.createStatement()) {
      exists.setString(1, APP_USER);
      boolean present;
      try (var rs = exists.executeQuery()) {
        present = rs.next();
      }
      // the SCRAM verifier, not the password, travels to the server
      s.execute(
          (present ? "ALTER ROLE " : "CREATE ROLE ")
              + quote(APP_USER)
              + " LOGIN PASSWORD '"
              + verifier
              + "'");
    } catch (SQLException e) {
      throw new IllegalStateException(
          "could not prepare the login role " + APP_USER + ": " + e.getMessage(), e);
    }
  }

  private Connection superuserConnection() throws SQLException {
    DatabaseUrl url = ownerUrl("postgres");
    Properties props = new Properties();
    props.setProperty("user", url.user());
    props.setProperty("password", superuserPassword.reveal());
    return DriverManager.getConnection(url.jdbcUrl(), props);
  }

  private DatabaseUrl url(String database, String user, Secret password) {
    return new DatabaseUrl(
        LOOPBACK, port, database, user, Optional.of(password), Map.of("sslmode", "disable"));
  }

  private List<String> pgCtl(String action, String... args) {
    List<String> command =
        new ArrayList<>(
            List.of("-D", dataDir.toString(), "-w", "-t", Long.toString(timeoutSeconds()), action));
    command.addAll(List.of(args));
    return command;
  }

  /**
   * {@code initdb} into a sibling directory, with the superuser's password and SCRAM authentication
   * from the first moment, then the password files and {@code pg_hba.conf}; only then is the
   * directory renamed into place, so a crash leaves no half-made cluster behind.
   */
  private static void initialise(PostgresBinaries binaries, Path dir) throws IOException {
    Path staging = dir.resolveSibling(dir.getFileName() + ".init");
    deleteRecursively(staging);
    Secret superuser = PasswordFile.generate();
    Path pwfile = dir.resolveSibling(dir.getFileName() + ".init-password");
    try {
      PasswordFile.writeOwnerOnly(pwfile, superuser.reveal() + "\n");
      run(
          binaries.command(
              "initdb",
              List.of(
                  "-D",
                  staging.toString(),
                  "-U",
                  SUPERUSER,
                  "--pwfile=" + pwfile,
                  "--auth=scram-sha-256",
                  "-E",
                  "UTF-8")),
          null);
    } finally {
      Files.deleteIfExists(pwfile);
    }
    PasswordFile.of(staging, SUPERUSER).write(superuser);
    PasswordFile.of(staging, APP_USER).write(PasswordFile.generate());
    PasswordFile.writeOwnerOnly(staging.resolve("pg_hba.conf"), PG_HBA);
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      // an empty directory made by the operator: rename() replaces it
      try (var entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new IOException(dir + " is not empty and holds no PostgreSQL cluster");
        }
      }
    }
    Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Makes sure the password files exist and {@code pg_hba.conf} is {@link #PG_HBA}. A new superuser
   * password, or a {@code pg_hba.conf} that was not locked (a cluster of an older version that
   * trusted loopback logins), is applied in single-user mode before the server accepts any
   * connection.
   */
  private static void lockDown(PostgresBinaries binaries, Path dir) throws IOException {
    PasswordFile superuser = PasswordFile.of(dir, SUPERUSER);
    boolean newSuperuserPassword = superuser.ensure();
    PasswordFile.of(dir, APP_USER).ensure();
    Path hba = dir.resolve("pg_hba.conf");
    boolean locked = Files.exists(hba) && Files.readString(hba).equals(PG_HBA);
    if (newSuperuserPassword || !locked) {
      LOG.atWarn()
          .setMessage(
              locked
                  ? "setting a new superuser password for the embedded PostgreSQL"
                  : "upgrading the embedded PostgreSQL to password authentication")
          .addKeyValue("dir", dir)
          .addKeyValue("passwordFile", superuser.path())
          .log();
      String verifier = PasswordUtil.encodeScramSha256(superuser.read().reveal().toCharArray());
      List<String> args = new ArrayList<>(List.of("--single", "-D", dir.toString()));
      args.addAll(List.of("-c", "exit_on_error=on"));
      DURABILITY.forEach((name, value) -> args.addAll(List.of("-c", name + "=" + value)));
      args.add("postgres");
      run(
          binaries.command("postgres", args),
          "ALTER ROLE " + quote(SUPERUSER) + " PASSWORD '" + verifier + "';\n");
    }
    if (!locked) {
      PasswordFile.writeOwnerOnly(hba, PG_HBA);
    }
  }

  /**
   * Runs a PostgreSQL program to completion, feeding it {@code input} on stdin.
   *
   * @throws IOException naming the command and showing its output when it fails or times out
   */
  private static void run(List<String> command, String input) throws IOException {
    Path output = Files.createTempFile("embedded-postgres", ".out");
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      try (OutputStream stdin = process.getOutputStream()) {
        if (input != null) {
          stdin.write(input.getBytes(StandardCharsets.UTF_8));
        }
      }
      boolean exited;
      try {
        exited = process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
        throw new IOException("interrupted while running " + command.get(0), e);
      }
      if (!exited) {
        process.destroyForcibly();
      }
      if (!exited || process.exitValue() != 0) {
        throw new IOException(
            String.join(" ", command)
                + (exited ? " failed with exit code " + process.exitValue() : " timed out")
                + ":\n"
                + Files.readString(output, StandardCharsets.UTF_8).strip());
      }
    } finally {
      Files.deleteIfExists(output);
    }
  }

  private static void lock(FileChannel channel, Path dir) throws IOException {
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      throw new IllegalStateException(
          "the embedded PostgreSQL in " + dir + " is in use by another broker process");
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
      return socket.getLocalPort();
    }
  }

  private static long timeoutSeconds() {
    return COMMAND_TIMEOUT.toSeconds() - 10;
  }

  private static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  private static Map<String, String> settings() {
    Map<String, String> settings = new LinkedHashMap<>(DURABILITY);
    settings.putAll(
        orderedMap(
            "listen_addresses",
            LOOPBACK,
            "unix_socket_directories",
            "''",
            "password_encryption",
            "scram-sha-256",
            "max_connections",
            "300",
            "timezone",
            "UTC"));
    return Collections.unmodifiableMap(settings);
  }

  private static Map<String, String> orderedMap(String... namesAndValues) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      map.put(namesAndValues[i], namesAndValues[i + 1]);
    }
    return Collections.unmodifiableMap(map);
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      LOG.warn("could not release the embedded PostgreSQL lock", e);
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
