package io.refundbroker.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The shape of the code base (README › Architecture): no package cycles; leaves that depend on
 * nothing of ours but other leaves; technical packages ({@code db}, {@code http}, {@code logging})
 * that depend only on leaves; features that depend only inward, and on another feature only through
 * the few classes it publishes for that (listed below, each with why); {@code app} wires everything
 * and nothing depends on it. Two rules guard the secrets' paths: only {@code vipps} and {@code
 * sandbox} build Vipps requests, and only {@code credential} touches key material.
 */
@AnalyzeClasses(packages = "io.refundbroker", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  private static final String ROOT = "io.refundbroker.";

  /** Small shared vocabulary every package may use. */
  private static final List<String> LEAVES =
      List.of("error", "caller", "async", "salesunit", "money", "text", "config", "sabotage");

  /** Technical packages the features build on. */
  private static final List<String> TECHNICAL = List.of("db", "http", "logging");

  /**
   * Every feature records its changes through the audit trail's public API: the log it appends to
   * and the event it appends (AuditLog.record returns the change the event records).
   */
  private static final List<String> AUDIT_API = List.of("audit.AuditLog", "audit.AuditEvent");

  @ArchTest
  static final ArchRule noPackageCycles =
      slices()
          .matching("io.refundbroker.(**)")
          .namingSlices("package $1")
          .should()
          .beFreeOfCycles()
          .because("packages importing each other in a circle cannot be changed one at a time");

  @ArchTest static final ArchRule errorDependsOnNothingOfOurs = selfContained("error");

  @ArchTest static final ArchRule asyncDependsOnNothingOfOurs = selfContained("async");

  @ArchTest static final ArchRule moneyDependsOnNothingOfOurs = selfContained("money");

  @ArchTest static final ArchRule textDependsOnNothingOfOurs = selfContained("text");

  @ArchTest static final ArchRule configDependsOnNothingOfOurs = selfContained("config");

  @ArchTest
  static final ArchRule leavesDependOnlyOnLeaves =
      classes()
          .that()
          .resideInAnyPackage(packages(LEAVES))
          .should()
          .onlyDependOnClassesThat(outsideOurCodeOrIn("a leaf", LEAVES));

  @ArchTest
  static final ArchRule technicalPackagesDependOnlyOnLeaves =
      classes()
          .that()
          .resideInAnyPackage(packages(TECHNICAL))
          .should()
          .onlyDependOnClassesThat(
              outsideOurCodeOrIn("a leaf or a technical package", concat(LEAVES, TECHNICAL)));

  @ArchTest static final ArchRule auditDependsOnlyInward = feature("audit");

  @ArchTest static final ArchRule vippsDependsOnlyInward = feature("vipps");

  @ArchTest static final ArchRule consoleDependsOnlyInward = feature("console");

  /** The stores' changes are audited. */
  @ArchTest static final ArchRule storeDependsOnlyInward = feature("store", AUDIT_API);

  /**
   * Clients' changes are audited; the client CA keeps its private key as a broker secret of the
   * credential backend ({@code BrokerSecrets}, a get-or-create of one named secret).
   */
  @ArchTest
  static final ArchRule authDependsOnlyInward =
      feature("auth", concat(AUDIT_API, List.of("credential.BrokerSecrets")));

  /**
   * Rotations are audited and per store ({@code Store}, {@code StoreService}); new keys are proved
   * by fetching a Vipps token ({@code VippsGateway}, whose {@code VippsFailure} is mapped to a
   * problem); with Vault, Transit signs audit checkpoints, so the backend offers the signer SPI of
   * {@code audit.signing}.
   */
  @ArchTest
  static final ArchRule credentialDependsOnlyInward =
      feature(
          "credential",
          concat(
              AUDIT_API,
              List.of(
                  "audit.signing.CheckpointSigner",
                  "audit.signing.CheckpointSignature",
                  "audit.signing.CheckpointKey",
                  "audit.signing.Ed25519PublicKey",
                  "store.Store",
                  "store.StoreService",
                  "vipps.VippsGateway",
                  "vipps.VippsFailure")));

  /**
   * Registrations are audited; an order belongs to a store ({@code Store}, {@code StoreRepository}
   * for the chain's stores and order-id prefixes); a payment is read from Vipps with the origin
   * store's keys ({@code CredentialProvider}, {@code StoreCredentials}, {@code VippsGateway},
   * {@code PaymentSnapshot}, {@code VippsFailure}).
   */
  @ArchTest
  static final ArchRule orderDependsOnlyInward =
      feature(
          "order",
          concat(
              AUDIT_API,
              List.of(
                  "credential.CredentialProvider",
                  "credential.StoreCredentials",
                  "store.Store",
                  "store.StoreRepository",
                  "vipps.VippsGateway",
                  "vipps.PaymentSnapshot",
                  "vipps.VippsFailure")));

  /**
   * A refund is audited ({@code CanonicalJson} also fingerprints the request for its idempotency
   * key); it needs of an order what {@code OrderFeature} publishes: the resolver, the order lock
   * and insert ({@code OrderRepository}), the payment look-up and its quota, and implements the
   * order view's {@code RefundBalance}; of the stores their limits and the frozen check; the origin
   * store's keys; and the Vipps calls of a refund.
   */
  @ArchTest
  static final ArchRule refundDependsOnlyInward =
      feature(
          "refund",
          concat(
              AUDIT_API,
              List.of(
                  "audit.CanonicalJson",
                  "credential.CredentialProvider",
                  "credential.StoreCredentials",
                  "order.OrderFeature",
                  "order.OrderRepository",
                  "order.OrderResolver",
                  "order.PaymentLookup",
                  "order.LookupQuota",
                  "order.Order",
                  "order.ResolvedOrder",
                  "order.RefundBalance",
                  "store.Store",
                  "store.StoreRepository",
                  "store.RefundLimits",
                  "vipps.VippsGateway",
                  "vipps.RefundCall",
                  "vipps.RefundLookup",
                  "vipps.RefundOutcome",
                  "vipps.PaymentSnapshot")));

  /** The sandbox checks requests against the same header names (and redaction) the client uses. */
  @ArchTest
  static final ArchRule sandboxDependsOnlyInward =
      feature("sandbox", List.of("vipps.VippsHeaders"));

  @ArchTest
  static final ArchRule nothingDependsOnApp =
      noClasses()
          .that()
          .resideOutsideOfPackage(ROOT + "app..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage(ROOT + "app..")
          .because("app wires the features; it may depend on everything, nothing on it");

  @ArchTest
  static final ArchRule onlyVippsAndSandboxBuildVippsRequests =
      noClasses()
          .that()
          .resideOutsideOfPackages(ROOT + "vipps..", ROOT + "sandbox..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("io.vertx.ext.web.client..")
          .orShould()
          .dependOnClassesThat()
          .haveFullyQualifiedName(ROOT + "vipps.VippsHeaders")
          .orShould()
          .dependOnClassesThat()
          .haveFullyQualifiedName(ROOT + "vipps.VippsTransport")
          .because("the Vipps client is the one place that adds keys and tokens to a request");

  @ArchTest
  static final ArchRule onlyCredentialTouchesKeyMaterial =
      noClasses()
          .that()
          .resideOutsideOfPackage(ROOT + "credential..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(ROOT + "credential.local..", ROOT + "credential.vault..")
          .orShould()
          .dependOnClassesThat()
          .haveFullyQualifiedName(ROOT + "credential.CredentialBackend")
          .because(
              "the backends, the key-encryption key and the envelopes are reached only through"
                  + " credential (app starts the feature through credential.backends)");

  /**
   * Feature {@code name} depends only on leaves, technical packages, itself and {@code published}.
   */
  private static ArchRule feature(String name, List<String> published) {
    return classes()
        .that()
        .resideInAPackage(ROOT + name + "..")
        .should()
        .onlyDependOnClassesThat(
            new Inward(
                "a leaf, a technical package, "
                    + name
                    + " itself"
                    + (published.isEmpty() ? "" : " or " + published),
                concat(concat(LEAVES, TECHNICAL), List.of(name)),
                Set.copyOf(published)));
  }

  private static ArchRule feature(String name) {
    return feature(name, List.of());
  }

  private static ArchRule selfContained(String name) {
    return classes()
        .that()
        .resideInAPackage(ROOT + name + "..")
        .should()
        .onlyDependOnClassesThat(outsideOurCodeOrIn(name + " itself", List.of(name)));
  }

  private static DescribedPredicate<JavaClass> outsideOurCodeOrIn(
      String what, List<String> allowed) {
    return new Inward(what, allowed, Set.of());
  }

  /** True for classes outside our code, in one of {@code packages} or named in {@code classes}. */
  private static class Inward extends DescribedPredicate<JavaClass> {
    private final List<String> packages;
    private final Set<String> classes;

    Inward(String description, List<String> packages, Set<String> classes) {
      super("are outside io.refundbroker or in " + description);
      this.packages = packages;
      this.classes = classes;
    }

    @Override
    public boolean test(JavaClass type) {
      JavaClass base = type.getBaseComponentType();
      String pkg = base.getPackageName();
      if (!pkg.startsWith(ROOT)) {
        return true;
      }
      String relative = pkg.substring(ROOT.length());
      for (String allowed : packages) {
        if (relative.equals(allowed) || relative.startsWith(allowed + ".")) {
          return true;
        }
      }
      String name = base.getName().substring(ROOT.length());
      int nested = name.indexOf('$');
      return classes.contains(nested < 0 ? name : name.substring(0, nested));
    }
  }

  private static String[] packages(List<String> names) {
    return names.stream().map(name -> ROOT + name + "..").toArray(String[]::new);
  }

  private static List<String> concat(List<String> first, List<String> second) {
    return Stream.concat(first.stream(), second.stream()).collect(Collectors.toList());
  }
}
