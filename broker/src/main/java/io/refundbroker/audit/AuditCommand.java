package io.refundbroker.audit;

import io.refundbroker.audit.signing.Ed25519PublicKey;
import io.vertx.core.json.DecodeException;
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
    subcommands = {AuditCommand.Verify.class})
public final class AuditCommand implements Runnable {
  /** Exit code of {@code audit verify} when the trail is not intact. */
  public static final int EXIT_INVALID = 1;

  /** Exit code when the input files cannot be read. */
  public static final int EXIT_INPUT = 2;

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * {@code audit verify}: checks a JSON Lines export of the events against the exported checkpoints
   * and the published public key, with the same {@link AuditVerifier} as {@code GET
   * /v1/audit/verify} — except the MACs: auditors do not hold the MAC key, so offline verification
   * relies on the signed checkpoints (the checkpointer checked every MAC before it signed). Exit 0
   * when intact, 1 naming the first bad event, 2 when an input cannot be read.
   */
  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Verify an exported audit trail offline.",
        "Export the checkpoints first, then the events (GET /v1/audit/checkpoints and",
        "GET /v1/audit/events with Accept: application/x-ndjson), and the public key",
        "(GET /v1/audit/public-key). Exit 0: intact; 1: tampered (the first bad event is",
        "named); 2: an input file cannot be read. Events' MACs are not checked here (auditors",
        "do not hold the MAC key): the signed checkpoints vouch for them, since the broker",
        "checks every MAC before it signs."
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
        names = "--public-key",
        required = true,
        paramLabel = "PEM",
        description = "Ed25519 public key (PEM); repeat for keys used earlier")
    List<Path> publicKeys;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      List<Ed25519PublicKey> keys = new ArrayList<>();
      List<Checkpoint> signed;
      try {
        for (Path file : publicKeys) {
          keys.add(readKey(file));
        }
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
      return result.valid() ? 0 : EXIT_INVALID;
    }
  }

  /**
   * Verifies a JSON Lines export read from {@code events} (blank lines are skipped; a line that is
   * not an event makes the trail invalid from the seq expected there).
   */
  public static AuditVerifier.Result verifyExport(
      BufferedReader events, List<Checkpoint> checkpoints, List<Ed25519PublicKey> keys)
      throws IOException {
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
