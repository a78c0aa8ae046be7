package io.refundbroker.audit.signing;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * An Ed25519 signing key and its public half. Signing is pure computation (no I/O); the PEM form is
 * an unencrypted PKCS#8 {@code PRIVATE KEY} block, as {@code openssl genpkey -algorithm ed25519}
 * writes it. {@link #toString()} never shows the private key.
 */
public final class Ed25519KeyPair {
  private final Ed25519PrivateKeyParameters privateKey;
  private final Ed25519PublicKey publicKey;

  private Ed25519KeyPair(Ed25519PrivateKeyParameters privateKey) {
    this.privateKey = privateKey;
    this.publicKey = new Ed25519PublicKey(privateKey.generatePublicKey());
  }

  /** A new random key. */
  public static Ed25519KeyPair generate() {
    return new Ed25519KeyPair(new Ed25519PrivateKeyParameters(new SecureRandom()));
  }

  /**
   * Reads a PEM {@code PRIVATE KEY} (PKCS#8) block.
   *
   * @throws IllegalArgumentException when the text holds no unencrypted Ed25519 private key (the
   *     message never contains key material)
   */
  public static Ed25519KeyPair fromPem(String pemText) {
    try (PEMParser parser = new PEMParser(new StringReader(pemText))) {
      Object object = parser.readObject();
      PrivateKeyInfo info =
          object instanceof PEMKeyPair pair
              ? pair.getPrivateKeyInfo()
              : object instanceof PrivateKeyInfo p ? p : null;
      if (info == null) {
        throw new IllegalArgumentException(
            "no unencrypted PEM 'PRIVATE KEY' block found (an Ed25519 key in PKCS#8 form)");
      }
      AsymmetricKeyParameter parameters = PrivateKeyFactory.createKey(info);
      if (!(parameters instanceof Ed25519PrivateKeyParameters ed25519)) {
        throw new IllegalArgumentException("the private key is not an Ed25519 key");
      }
      return new Ed25519KeyPair(ed25519);
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae && iae.getCause() == null) {
        throw iae;
      }
      throw new IllegalArgumentException("not a readable PEM Ed25519 private key");
    }
  }

  /** The private key as a PEM {@code PRIVATE KEY} block: handle it as a secret. */
  public String toPem() {
    try {
      byte[] der = PrivateKeyInfoFactory.createPrivateKeyInfo(privateKey).getEncoded();
      StringWriter text = new StringWriter();
      try (PemWriter writer = new PemWriter(text)) {
        writer.writeObject(new PemObject("PRIVATE KEY", der));
      }
      return text.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The 64-byte Ed25519 signature of {@code message}. */
  public byte[] sign(byte[] message) {
    Ed25519Signer signer = new Ed25519Signer();
    signer.init(true, privateKey);
    signer.update(message, 0, message.length);
    return signer.generateSignature();
  }

  public Ed25519PublicKey publicKey() {
    return publicKey;
  }

  @Override
  public String toString() {
    return "Ed25519KeyPair[public=" + publicKey + "]";
  }
}
