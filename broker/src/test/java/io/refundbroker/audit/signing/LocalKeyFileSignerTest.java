package io.refundbroker.audit.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refundbroker.testing.Await;
import io.refundbroker.testing.Pem;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The key file signer; {@link VertxExtension} gives each test a Vert.x and closes it after. */
@ExtendWith(VertxExtension.class)
class LocalKeyFileSignerTest {
  @TempDir Path dir;
  private WorkerExecutor worker;

  @BeforeEach
  void start(Vertx vertx) {
    worker = vertx.createSharedWorkerExecutor("test-signing", 1);
  }

  @Test
  void createsAnOwnerOnlyKeyOnFirstUseAndReusesIt() throws Exception {
    Path file = dir.resolve("nested/audit-signing-key.pem");
    LocalKeyFileSigner first = Await.result(LocalKeyFileSigner.open(file, worker));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(Pem.read(Files.readString(file)).getType()).isEqualTo("PRIVATE KEY");

    LocalKeyFileSigner again = Await.result(LocalKeyFileSigner.open(file, worker));
    assertThat(again.keyId()).isEqualTo(first.keyId()).isEqualTo("local");
    assertThat(Await.result(again.currentKey()).publicKey())
        .isEqualTo(Await.result(first.currentKey()).publicKey());

    byte[] message = "checkpoint".getBytes(StandardCharsets.UTF_8);
    CheckpointSignature signed = Await.result(first.sign(message));
    byte[] signature = signed.signature();
    assertThat(signature).hasSize(64);
    Ed25519PublicKey published =
        Ed25519PublicKey.fromPem(Await.result(again.currentKey()).publicKey().pem());
    assertThat(signed.keyVersion()).isEqualTo(published.fingerprint());
    assertThat(published.verifies(message, signature)).isTrue();
    assertThat(published.verifies("checkpoinT".getBytes(StandardCharsets.UTF_8), signature))
        .isFalse();
    assertThat(Ed25519KeyPair.generate().publicKey().verifies(message, signature)).isFalse();
  }

  @Test
  void rotationRetiresTheOldPublicKeyAndARunningSignerSwitchesToTheNewKey() throws Exception {
    Path file = dir.resolve("audit-signing-key.pem");
    LocalKeyFileSigner signer = Await.result(LocalKeyFileSigner.open(file, worker));
    byte[] message = "checkpoint".getBytes(StandardCharsets.UTF_8);
    CheckpointSignature before = Await.result(signer.sign(message));
    String oldPrivatePem = Files.readString(file);

    LocalKeyFileSigner.Rotation rotation = LocalKeyFileSigner.rotate(file);
    assertThat(rotation.retired().fingerprint()).isEqualTo(before.keyVersion());
    assertThat(rotation.current()).isNotEqualTo(rotation.retired());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(file)).isNotEqualTo(oldPrivatePem);
    assertThat(Pem.read(Files.readString(rotation.retiredKeysFile())).getType())
        .as("only the public half is kept")
        .isEqualTo("PUBLIC KEY");

    CheckpointSignature after = Await.result(signer.sign(message));
    assertThat(after.keyVersion()).isEqualTo(rotation.current().fingerprint());
    assertThat(rotation.current().verifies(message, after.signature())).isTrue();

    List<CheckpointKey> keys = Await.result(signer.publicKeys());
    assertThat(keys)
        .extracting(CheckpointKey::keyVersion)
        .containsExactly(before.keyVersion(), after.keyVersion());
    assertThat(keys.get(0).publicKey().verifies(message, before.signature())).isTrue();

    // a second rotation keeps both earlier public keys, once each
    LocalKeyFileSigner.rotate(file);
    assertThat(Await.result(signer.publicKeys()))
        .extracting(CheckpointKey::keyVersion)
        .hasSize(3)
        .startsWith(before.keyVersion(), after.keyVersion())
        .doesNotHaveDuplicates();
  }

  @Test
  void rotationWithoutAKeyFileChangesNothing() {
    Path file = dir.resolve("missing.pem");
    assertThatThrownBy(() -> LocalKeyFileSigner.rotate(file))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("missing.pem")
        .hasMessageContaining("no key to rotate");
    assertThat(Files.exists(LocalKeyFileSigner.retiredKeysFile(file))).isFalse();
  }

  @Test
  void readsAKeyWrittenInPkcs8PemAndRefusesGarbageWithoutEchoingIt() throws Exception {
    Ed25519KeyPair key = Ed25519KeyPair.generate();
    Path file = Files.writeString(dir.resolve("key.pem"), key.toPem());
    LocalKeyFileSigner signer = Await.result(LocalKeyFileSigner.open(file, worker));
    assertThat(Await.result(signer.currentKey()).keyVersion())
        .isEqualTo(key.publicKey().fingerprint());
    assertThat(key.toString()).doesNotContain(key.toPem().substring(30, 60));

    byte[] garbage = new byte[24];
    new SecureRandom().nextBytes(garbage);
    Path bad = Files.writeString(dir.resolve("bad.pem"), Pem.write("PRIVATE KEY", garbage));
    Throwable failure = Await.failure(LocalKeyFileSigner.open(bad, worker));
    assertThat(failure)
        .hasMessageContaining("AUDIT_SIGNING_KEY_FILE")
        .hasMessageContaining("bad.pem");
    assertThat(failure.getMessage())
        .doesNotContain(Base64.getEncoder().encodeToString(garbage).substring(0, 8));
    assertThatThrownBy(() -> Ed25519PublicKey.fromPem("nope"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
