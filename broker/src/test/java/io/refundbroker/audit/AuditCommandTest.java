package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The offline commands' refusals: no key to verify with, nothing to rotate, the Vault backend. */
class AuditCommandTest {
  @TempDir Path dir;

  private record Run(int exitCode, String output) {}

  private static Run run(Object command, String... args) {
    StringWriter text = new StringWriter();
    PrintWriter writer = new PrintWriter(text, true);
    CommandLine line = new CommandLine(command).setOut(writer).setErr(writer);
    int code = line.execute(args);
    return new Run(code, text.toString());
  }

  @Test
  void verifyWithoutAnyKeyIsAnInputError() throws Exception {
    Path events = Files.writeString(dir.resolve("events.jsonl"), "");
    Path checkpoints = Files.writeString(dir.resolve("checkpoints.jsonl"), "");
    Run run =
        run(
            new AuditCommand.Verify(),
            "--events",
            events.toString(),
            "--checkpoints",
            checkpoints.toString());
    assertThat(run.exitCode()).isEqualTo(AuditCommand.EXIT_INPUT);
    assertThat(run.output()).contains("--key-set").contains("--public-key");

    Path notAKeySet = Files.writeString(dir.resolve("keys.json"), "{\"keys\": [{\"keyId\": 1}]}");
    Run bad =
        run(
            new AuditCommand.Verify(),
            "--events",
            events.toString(),
            "--checkpoints",
            checkpoints.toString(),
            "--key-set",
            notAKeySet.toString());
    assertThat(bad.exitCode()).as(bad.output()).isEqualTo(AuditCommand.EXIT_INPUT);
    assertThat(bad.output()).contains("keys.json is not a key set");
  }

  @Test
  void rotateKeyRefusesTheVaultBackendAndSaysHowToRotateThere() {
    Run run =
        run(
            new AuditCommand.RotateKey(
                Map.of(
                    "VAULT_ADDR", "http://127.0.0.1:8200",
                    "VAULT_ROLE_ID", "r",
                    "VAULT_SECRET_ID", "s",
                    "BROKER_DATA_DIR", dir.toString())));
    assertThat(run.exitCode()).isEqualTo(AuditCommand.EXIT_INPUT);
    assertThat(run.output())
        .contains("vault write -f transit/keys/refund-broker-audit/rotate")
        .contains("auto_rotate_period");
    assertThat(dir.resolve("audit-signing-key.pem")).doesNotExist();
  }

  @Test
  void rotateKeyWithoutAKeyFileChangesNothing() {
    Run run = run(new AuditCommand.RotateKey(Map.of("BROKER_DATA_DIR", dir.toString())));
    assertThat(run.exitCode()).isEqualTo(AuditCommand.EXIT_INPUT);
    assertThat(run.output()).contains("audit-signing-key.pem").contains("no key to rotate");
    assertThat(dir.resolve("audit-signing-key.pem.retired.pem")).doesNotExist();
  }
}
