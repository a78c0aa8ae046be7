package io.refundbroker.audit;

import io.refundbroker.audit.signing.CheckpointKey;
import io.refundbroker.audit.signing.Ed25519PublicKey;
import io.refundbroker.audit.signing.LocalKeyFileSigner;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.config.ConfigException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code audit}: offline tools for auditors (no database, no running broker needed). */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = "Offline tools for the tamper-evident audit trail.",
    subcommands = {AuditCommand.Verify.class, AuditCommand.RotateKey.class})
public final class AuditCommand implements Runnable {
  /** Exit code of {@code audit verify} when the trail is not intact. */
  public static final int EXIT_INVALID = 1;

  /** Exit code when the input files cannot be read (or, for rotate-key, nothing can be rotated). */
  public static final int EXIT_INPUT = 2;

  /**
   * Exit code of {@code audit verify} when nothing bad was found but a checkpoint names a key
   * version that was not given, so it could not be checked.
   */
  public static final int EXIT_UNVERIFIED = 3;

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * {@code audit verify}: checks a JSON Lines export of the events against the exported checkpoints
   * and the published key set (or bare public keys), with the same {@link AuditVerifier} as {@code
   * GET /v1/audit/verify} — except the MACs: auditors do not hold the MAC key, so offline
   * verification relies on the signed checkpoints (the checkpointer checked every MAC before it
   * signed). Exit 0 when intact, 1 naming the first bad event, 2 when an input cannot be read, 3
   * when a checkpoint names a key version that was not given.
   */
  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Verify an exported audit trail offline.",
        "Export the checkpoints first, then the events (GET /v1/audit/checkpoints and",
        "GET /v1/audit/events with Accept: application/x-ndjson), and the key set",
        "(GET /v1/audit/public-keys: every key version the broker has signed with).",
        "Exit 0: intact; 1: tampered (the first bad event is named); 2: an input file",
        "cannot be read; 3: a checkpoint is signed by a key version that was not given",
        "(not evidence of tampering: give the whole key set). Events' MACs are not checked",
        "here (auditors do not hold the MAC key): the signed checkpoints vouch for them,",
        "since the broker checks every MAC before it signs."
      })
  public static final class Verify implements Callable<Integer> {
    @Option(
        names = "--events",
        required = true,
        paramLabel = "FILE",
        description = "events, one JSON object per line, in seq order")
    Path events;

    @Option(
        names = "--checkpoints",
        required = true,
        paramLabel = "FILE",
        description = "signed checkpoints, one JSON object per line")
    Path checkpoints;

    @Option(
        names = "--key-set",
        paramLabel = "JSON",
        description =
            "key set: the body of GET /v1/audit/public-keys (each checkpoint is checked with the"
                + " key version it names); repeatable")
    List<Path> keySets = new ArrayList<>();

    @Option(
        names = "--public-key",
        paramLabel = "PEM",
        description =
            "an Ed25519 public key (PEM) without a version, e.g. from GET /v1/audit/public-key;"
                + " repeat for keys used earlier")
    List<Path> publicKeys = new ArrayList<>();

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      if (keySets.isEmpty() && publicKeys.isEmpty()) {
        err.println(
            "audit verify: give the key set (--key-set, the body of GET /v1/audit/public-keys)"
                + " or at least one --public-key");
        err.flush();
        return EXIT_INPUT;
      }
      CheckpointKeys keys;
      List<Checkpoint> signed;
      try {
        List<CheckpointKey> named = new ArrayList<>();
        for (Path file : keySets) {
          named.addAll(readKeySet(file));
        }
        List<Ed25519PublicKey> unnamed = new ArrayList<>();
        for (Path file : publicKeys) {
          unnamed.add(readKey(file));
        }
        keys = CheckpointKeys.of(named, unnamed);
        signed = readCheckpoints(checkpoints);
      } catch (IllegalArgumentException | UncheckedIOException e) {
        err.println("audit verify: " + e.getMessage());
        err.flush();
        return EXIT_INPUT;
      }
      AuditVerifier.Result result;
      try (BufferedReader reader = Files.newBufferedReader(events, StandardCharsets.UTF_8)) {
        result = verifyExport(reader, signed, keys);
      } catch (IOException | UncheckedIOException e) {
        err.println("audit verify: cannot read " + events + ": " + e.getMessage());
        err.flush();
        return EXIT_INPUT;
      }
      out.println(describe(result));
      out.flush();
      return result.valid() ? 0 : result.unverifiable() ? EXIT_UNVERIFIED : EXIT_INVALID;
    }
  }

  /**
   * {@code audit rotate-key}: replaces the local backend's signing key file with a new key and
   * keeps the old public key ({@link LocalKeyFileSigner#rotate}). With the Vault backend the
   * Transit key is rotated in Vault instead, so the command refuses and says how.
   */
  @Command(
      name = "rotate-key",
      mixinStandardHelpOptions = true,
      description = {
        "Rotate the local backend's audit signing key (AUDIT_SIGNING_KEY_FILE).",
        "The old public key is kept in <key file>.retired.pem and stays published",
        "(GET /v1/audit/public-keys), so earlier checkpoints still verify; running brokers",
        "sign with the new key from their next checkpoint. With CREDENTIALS_BACKEND=vault,",
        "rotate the Transit key in Vault instead. Exit 0: rotated; 2: nothing to rotate."
      })
  public static final class RotateKey implements Callable<Integer> {
    @Option(
        names = "--key-file",
        paramLabel = "PEM",
        description = "the key file (default: AUDIT_SIGNING_KEY_FILE as the broker reads it)")
    Path keyFile;

    @Spec CommandSpec spec;

    private final Map<String, String> env;

    public RotateKey() {
      this(System.getenv());
    }

    /** With {@code env} instead of the process environment (tests). */
    public RotateKey(Map<String, String> env) {
      this.env = Map.copyOf(env);
    }

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      Path file = keyFile;
      if (file == null) {
        BrokerConfig config;
        try {
          config = BrokerConfig.fromEnvironment(env);
        } catch (ConfigException e) {
          err.println("audit rotate-key: " + e.getMessage());
          err.flush();
          return EXIT_INPUT;
        }
        if (config.credentials().backend() == BrokerConfig.CredentialsBackend.VAULT) {
          err.println(
              "audit rotate-key: with CREDENTIALS_BACKEND=vault checkpoints are signed by the"
                  + " Transit key "
                  + config.vault().transitMount()
                  + "/keys/"
                  + config.vault().transitKey()
                  + ". Rotate it in Vault (vault write -f "
                  + config.vault().transitMount()
                  + "/keys/"
                  + config.vault().transitKey()
                  + "/rotate, or set its auto_rotate_period); the broker signs with the new"
                  + " version at once and keeps publishing the old ones.");
          err.flush();
          return EXIT_INPUT;
        }
        file = config.audit().signingKeyFile();
      }
      LocalKeyFileSigner.Rotation rotation;
      try {
        rotation = LocalKeyFileSigner.rotate(file);
      } catch (IllegalStateException e) {
        err.println("audit rotate-key: " + e.getMessage());
        err.flush();
        return EXIT_INPUT;
      }
      out.println("rotated the audit signing key in " + file.toAbsolutePath());
      out.println(
          "  retired: key "
              + LocalKeyFileSigner.KEY_ID
              + " version "
              + rotation.retired().fingerprint()
              + " (public key kept in "
              + rotation.retiredKeysFile()
              + ")");
      out.println(
          "  current: key "
              + LocalKeyFileSigner.KEY_ID
              + " version "
              + rotation.current().fingerprint());
      out.println(
          "Running brokers sign with the new key from their next checkpoint. Auditors: export"
              + " the key set again (GET /v1/audit/public-keys).");
      out.flush();
      return 0;
    }
  }

  /**
   * Verifies a JSON Lines export read from {@code events} (blank lines are skipped; a line that is
   * not an event makes the trail invalid from the seq expected there).
   */
  public static AuditVerifier.Result verifyExport(
      BufferedReader events, List<Checkpoint> checkpoints, List<Ed25519PublicKey> keys)
      throws IOException {
    return verifyExport(events, checkpoints, CheckpointKeys.unnamed(keys));
  }

  /** Like {@link #verifyExport(BufferedReader, List, List)} with named and unnamed keys. */
  public static AuditVerifier.Result verifyExport(
      BufferedReader events, List<Checkpoint> checkpoints, CheckpointKeys keys) throws IOException {
    AuditVerifier verifier = new AuditVerifier(checkpoints, keys);
    String line;
    long number = 0;
    while ((line = events.readLine()) != null) {
      number++;
      if (line.isBlank()) {
        continue;
      }
      ChainedEvent event;
      try {
        event = ChainedEvent.fromJson(new JsonObject(line));
      } catch (DecodeException | IllegalArgumentException | ClassCastException e) {
        verifier.acceptUnreadable("line " + number + " is not an audit event");
        continue;
      }
      verifier.accept(event);
    }
    return verifier.finish();
  }

  /** The human-readable verdict printed by {@code audit verify}. */
  public static String describe(AuditVerifier.Result result) {
    String forgeries =
        result.acknowledgedForgeries().isEmpty()
            ? ""
            : System.lineSeparator()
                + "Events "
                + result.acknowledgedForgeries()
                + " are forgeries the trail itself acknowledges ("
                + AuditVerifier.ACKNOWLEDGED
                + "): they were not appended by the broker";
    String checked =
        result.checkedEvents()
            + " events checked (head seq "
            + result.headSeq()
            + ", hash "
            + result.headHash()
            + "), "
            + result.checkpointsVerified()
            + " checkpoints verified";
    if (result.unverifiable()) {
      return "UNVERIFIED: "
          + result.reason()
          + System.lineSeparator()
          + checked
          + "; no event was found to be bad";
    }
    if (!result.valid()) {
      return "INVALID: the first bad event is seq "
          + result.firstInvalidSeq()
          + ": "
          + result.reason()
          + System.lineSeparator()
          + checked
          + " before it"
          + forgeries;
    }
    long unsigned = result.headSeq() - result.lastValidCheckpointSeq();
    return "VALID: "
        + checked
        + (unsigned == 0
            ? "; every event is covered by a signed checkpoint"
            : "; the last "
                + unsigned
                + " events (after seq "
                + result.lastValidCheckpointSeq()
                + ") are not yet covered by a signed checkpoint, so a truncation or rewrite"
                + " there would not show")
        + forgeries;
  }

  private static Ed25519PublicKey readKey(Path file) {
    try {
      return Ed25519PublicKey.fromPem(Files.readString(file, StandardCharsets.US_ASCII));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read public key " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static List<CheckpointKey> readKeySet(Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8).strip();
      Object json = text.startsWith("[") ? new JsonArray(text) : new JsonObject(text);
      return CheckpointKeys.readKeySet(json);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read key set " + file + ": " + e.getMessage(), e);
    } catch (DecodeException | IllegalArgumentException | ClassCastException e) {
      throw new IllegalArgumentException(file + " is not a key set: " + e.getMessage(), e);
    }
  }

  private static List<Checkpoint> readCheckpoints(Path file) {
    List<Checkpoint> checkpoints = new ArrayList<>();
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      long number = 0;
      while ((line = reader.readLine()) != null) {
        number++;
        if (line.isBlank()) {
          continue;
        }
        try {
          checkpoints.add(Checkpoint.fromJson(new JsonObject(line)));
        } catch (DecodeException | IllegalArgumentException | ClassCastException e) {
          throw new IllegalArgumentException(
              file + " line " + number + " is not a checkpoint: " + e.getMessage(), e);
        }
      }
      return checkpoints;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoints " + file + ": " + e.getMessage(), e);
    }
  }
}
